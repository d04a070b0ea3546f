package framework

import "testing"

func TestLocalCorefile(t *testing.T) {
	joined := `.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    federation cluster.local { # added by kubefed join
       myfederation example.com
    }
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30
}
`
	got := localCorefile(joined, 5353, "/m/admin.kubeconfig", ClusterDNSOptions{Upstream: "127.0.0.1:53000"})
	want := `.:5353 {
    bind 127.0.0.1
    errors
    federation cluster.local { # added by kubefed join
       myfederation example.com
    }
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       kubeconfig /m/admin.kubeconfig
       pods insecure
       ttl 30
    }
    forward . 127.0.0.1:53000 {
       max_concurrent 1000
    }
    cache 30
}
`
	if got != want {
		t.Errorf("localCorefile:\n%s\nwant\n%s", got, want)
	}
	stock := localCorefile(joined, 5353, "/m/admin.kubeconfig", ClusterDNSOptions{WithoutFederation: true})
	wantStock := `.:5353 {
    bind 127.0.0.1
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       kubeconfig /m/admin.kubeconfig
       pods insecure
       ttl 30
    }
    cache 30
}
`
	if stock != wantStock {
		t.Errorf("localCorefile without federation or upstream:\n%s\nwant\n%s", stock, wantStock)
	}
}
