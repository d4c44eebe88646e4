// gcbench.go: the same workloads as bench/gcbench.cpp, in Go, for bench/gc_compare.sh.
//   go run gcbench.go binary-trees [DEPTH] | alloc SIZE [COUNT]
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"time"
)

type Node struct{ left, right *Node }

func bottomUp(depth int) *Node {
	if depth <= 0 {
		return &Node{}
	}
	return &Node{bottomUp(depth - 1), bottomUp(depth - 1)}
}

func (n *Node) check() int {
	if n.left == nil {
		return 1
	}
	return 1 + n.left.check() + n.right.check()
}

func binaryTrees(maxDepth int) {
	total := bottomUp(maxDepth + 1).check()
	longLived := bottomUp(maxDepth)
	for d := 4; d <= maxDepth; d += 2 {
		iterations := 1 << uint(maxDepth-d+4)
		for i := 0; i < iterations; i++ {
			total += bottomUp(d).check()
		}
	}
	total += longLived.check()
	if total == 0 {
		fmt.Println("impossible")
	}
}


func allocSize(size int, count int) {
	// Pointerful objects of SIZE bytes (a slice of pointers: one allocation each), the last 1000
	// kept live, like the C++ side's typed objects.
	const window = 1000
	live := make([][]*int, window)
	n := size / 8
	if n < 1 {
		n = 1
	}
	for i := 0; i < count; i++ {
		live[i%window] = make([]*int, n)
	}
	runtime.KeepAlive(live)
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: gcbench binary-trees [DEPTH] | alloc SIZE [COUNT]")
		os.Exit(2)
	}
	start := time.Now()
	ops := 0
	arg := "-"
	switch os.Args[1] {
	case "binary-trees":
		depth := 18
		if len(os.Args) > 2 {
			depth, _ = strconv.Atoi(os.Args[2])
			arg = os.Args[2]
		}
		binaryTrees(depth)
		ops = depth
	case "alloc":
		size, _ := strconv.Atoi(os.Args[2])
		arg = os.Args[2]
		count := 4000000
		if len(os.Args) > 3 {
			count, _ = strconv.Atoi(os.Args[3])
		}
		allocSize(size, count)
		ops = count
	default:
		fmt.Fprintln(os.Stderr, "gcbench: unknown pattern", os.Args[1])
		os.Exit(2)
	}
	secs := time.Since(start).Seconds()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	avg := 0.0
	if ms.NumGC > 0 {
		avg = float64(ms.PauseTotalNs) / 1e6 / float64(2*ms.NumGC)
	}
	fmt.Printf("impl=go pattern=%s arg=%s seconds=%.3f ops_per_sec=%.0f num_gc=%d pause_total_ms=%.3f pause_avg_ms=%.3f gc_cpu_fraction=%.3f heap_sys_mb=%.1f\n",
		os.Args[1], arg, secs, float64(ops)/secs, ms.NumGC, float64(ms.PauseTotalNs)/1e6, avg, ms.GCCPUFraction, float64(ms.HeapSys)/1048576)
}
