package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"time"
)

func main() {
	length := flag.Duration("for", 5*time.Second, "how long to measure")
	nap := flag.Duration("sleep", 7*time.Millisecond, "each sleep")
	flag.Parse()
	if *length <= 0 || *nap <= 0 {
		fmt.Fprintln(os.Stderr, "sleepprobe: -for and -sleep must be positive")
		os.Exit(2)
	}
	fmt.Println(summary(measure(*length, *nap), *nap))
}

// measure sleeps nap at a time for about length, at least once, and
// returns how late each sleep woke up.
func measure(length, nap time.Duration) []time.Duration {
	var late []time.Duration
	t := time.NewTimer(time.Hour)
	for end := time.Now().Add(length); len(late) == 0 || time.Now().Before(end); {
		want := time.Now().Add(nap)
		t.Reset(nap)
		<-t.C
		late = append(late, time.Since(want))
	}
	return late
}

// summary sorts late (not empty) and renders its percentiles.
func summary(late []time.Duration, nap time.Duration) string {
	slices.Sort(late)
	at := func(p float64) time.Duration { return late[min(int(float64(len(late))*p), len(late)-1)] }
	return fmt.Sprintf("%d sleeps of %v: overshoot p50 %v, p90 %v, p99 %v, max %v",
		len(late), nap, at(0.50), at(0.90), at(0.99), late[len(late)-1])
}
