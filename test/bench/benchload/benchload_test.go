package benchload

import (
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// run is a Result of objects whose latency to the last place is each of
// lat, in ms, over wall.
func run(wall time.Duration, lat ...int) Result {
	begin := time.Unix(0, 0)
	times := make([]ObjectTimes, len(lat))
	for i, ms := range lat {
		d := time.Duration(ms) * time.Millisecond
		times[i] = ObjectTimes{Start: begin, Created: begin, First: begin.Add(d / 2), Last: begin.Add(d)}
	}
	r := latencies(times)
	r.Begin, r.Wall = begin, wall
	return r
}

func TestPooledTakesThePercentilesOverEveryRunsObjects(t *testing.T) {
	// Two runs of 100 objects: one with a slow tail of five, one without.
	slow, fast := make([]int, 100), make([]int, 100)
	for i := range slow {
		slow[i], fast[i] = 10, 10
	}
	for i := 95; i < 100; i++ {
		slow[i] = 500
	}
	a, b := run(time.Second, slow...), run(3*time.Second, fast...)
	if a.P99 != 500*time.Millisecond {
		t.Fatalf("one run's p99 %s, want 500ms", a.P99)
	}
	p := Pooled(a, b)
	// Of the 200 pooled objects the five slow ones are the slowest 2.5 %:
	// the p99 is still theirs.
	if p.P99 != 500*time.Millisecond || p.P50 != 10*time.Millisecond {
		t.Errorf("pooled p50 %s p99 %s, want 10ms and 500ms", p.P50, p.P99)
	}
	if p.FirstP99 != 250*time.Millisecond {
		t.Errorf("pooled p99 to the first place %s, want 250ms", p.FirstP99)
	}
	if len(p.Objects) != 200 || p.Wall != 4*time.Second || p.Throughput != 50 {
		t.Errorf("pooled %d objects over %s at %.1f/s, want 200 over 4s at 50/s", len(p.Objects), p.Wall, p.Throughput)
	}
	// Pooled with four more runs like b, the five slow objects are fewer
	// than 1 % of 600, and the p99 is no longer theirs.
	if p6 := Pooled(a, b, b, b, b, b); p6.P99 != 10*time.Millisecond {
		t.Errorf("p99 of 600 objects with 5 slow ones %s, want 10ms", p6.P99)
	}
}

func TestWriteTimesHasAColumnPerPlace(t *testing.T) {
	begin := time.Unix(0, 0)
	at := func(ms int) time.Time { return begin.Add(time.Duration(ms) * time.Millisecond) }
	objects := []ObjectTimes{
		{Start: at(0), Created: at(5), First: at(10), Last: at(400), Places: map[string]time.Time{"b": at(400), "a": at(10)}},
		{Start: at(100), Created: at(103), First: at(120), Last: at(130), Places: map[string]time.Time{"a": at(130), "b": at(120)}},
	}
	path := filepath.Join(t.TempDir(), "times.csv")
	if err := WriteTimes(path, begin, objects); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "object,start_utc,start_ms,created_ms,first_ms,last_ms,a_ms,b_ms\n" +
		"obj-0,00:00:00.000,0.0,5.0,10.0,400.0,10.0,400.0\n" +
		"obj-1,00:00:00.100,100.0,103.0,120.0,130.0,130.0,120.0\n"
	if string(got) != want {
		t.Errorf("CSV:\n%s\nwant:\n%s", got, want)
	}
}

func TestMedianOfAnEvenCountIsTheMeanOfTheMiddleTwo(t *testing.T) {
	for _, c := range []struct {
		values []float64
		want   float64
	}{
		{nil, 0},
		{[]float64{0.9}, 0.9},
		{[]float64{0.93, 0.85, 0.94}, 0.93},
		// The rounds of one Services run: the upper middle would say 0.93.
		{[]float64{0.85, 0.94, 0.83, 0.93}, 0.89},
	} {
		if got := Median(c.values); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("Median(%v) = %v, want %v", c.values, got, c.want)
		}
	}
}
