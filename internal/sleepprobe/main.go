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
	var late []time.Duration
	t := time.NewTimer(time.Hour)
	for end := time.Now().Add(*length); time.Now().Before(end); {
		want := time.Now().Add(*nap)
		t.Reset(*nap)
		<-t.C
		late = append(late, time.Since(want))
	}
	slices.Sort(late)
	at := func(p float64) time.Duration { return late[min(int(float64(len(late))*p), len(late)-1)] }
	fmt.Printf("%d sleeps of %v: overshoot p50 %v, p90 %v, p99 %v, max %v\n",
		len(late), *nap, at(0.50), at(0.90), at(0.99), late[len(late)-1])
}
