// Command etcd is the stock etcd server (go.etcd.io/etcd/server/v3/etcdmain),
// built from the pinned module so that tests run the real thing.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
