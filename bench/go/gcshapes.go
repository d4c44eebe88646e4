// gcshapes.go: the collector fidelity report's workload shapes in Go, for bench/gc_compare.sh.
// bench/gcbench.cpp runs the same shapes against spanscope/gc.h. Objects are pointerful and
// under 512 bytes (Go 1.19 and 1.22+ lay them out the same), so sizes compare like for like.
//   gcshapes steady LIVE COUNT          a ring of LIVE 64-byte objects, COUNT replacements
//   gcshapes growdrop PEAK LOW COUNT    the ring grows to PEAK 32-byte objects, drops to LOW, churns
//   gcshapes growdrop-touch PEAK LOW COUNT   the same, each new object written once
// GOGC, GOMEMLIMIT and GODEBUG=gctrace=1 come from the environment. Prints one key=value line.
package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

type obj64 struct {
	next *obj64
	pad  [7]uint64
}

type obj32 struct {
	next *obj32
	pad  [3]uint64
}

func steady(live, count int) {
	ring := make([]*obj64, live)
	for i := 0; i < count; i++ {
		ring[i%live] = &obj64{}
	}
	runtime.KeepAlive(ring)
}

// touch: the program writes a word into each new object (its last, not a pointer), as real
// programs initialise theirs; without it the objects' pages are never written by the program.
func newObj32(i int, touch bool) *obj32 {
	o := &obj32{}
	if touch {
		o.pad[2] = uint64(i)
	}
	return o
}

func growdrop(peak, low, count int, touch bool) {
	ring := make([]*obj32, peak)
	for i := 0; i < peak; i++ { // grow: every allocation stays live
		ring[i] = newObj32(i, touch)
	}
	for i := low; i < peak; i++ { // drop to LOW
		ring[i] = nil
	}
	for i := 0; i < count; i++ { // churn over the small live set
		ring[i%low] = newObj32(i, touch)
	}
	runtime.KeepAlive(ring)
}

// Peak resident set (VmHWM), the same figure bench/gcbench.cpp reads.
func peakRSSKiB() int {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if strings.HasPrefix(s.Text(), "VmHWM:") {
			n, _ := strconv.Atoi(strings.Fields(s.Text())[1])
			return n
		}
	}
	return 0
}

func main() {
	arg := func(i int) int {
		if len(os.Args) <= i {
			fmt.Fprintln(os.Stderr, "usage: gcshapes steady LIVE COUNT | growdrop[-touch] PEAK LOW COUNT")
			os.Exit(2)
		}
		n, err := strconv.Atoi(os.Args[i])
		if err != nil || n <= 0 {
			fmt.Fprintln(os.Stderr, "gcshapes: bad number", os.Args[i])
			os.Exit(2)
		}
		return n
	}
	start := time.Now()
	switch os.Args[1] {
	case "steady":
		steady(arg(2), arg(3))
	case "growdrop", "growdrop-touch":
		growdrop(arg(2), arg(3), arg(4), os.Args[1] == "growdrop-touch")
	default:
		fmt.Fprintln(os.Stderr, "gcshapes: unknown shape", os.Args[1])
		os.Exit(2)
	}
	secs := time.Since(start).Seconds()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	// non_heap_mb: memory mapped for anything but heap spans (Sys - HeapSys: GC metadata, stacks,
	// span structs...), which the memory-limit goal subtracts from the limit.
	fmt.Printf("impl=go shape=%s seconds=%.3f num_gc=%d gc_cpu_fraction=%.3f peak_rss_mb=%.1f non_heap_mb=%.1f\n",
		os.Args[1], secs, ms.NumGC, ms.GCCPUFraction, float64(peakRSSKiB())/1024,
		float64(ms.Sys-ms.HeapSys)/(1<<20))
}
