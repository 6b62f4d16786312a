package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"

	"github.com/wgtools/wgtools/internal/userspace"
)

func main() {
	name := os.Args[1]
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR1)
	go func() {
		for range ch {
			f, _ := os.Create("/tmp/heap.prof")
			runtime.GC()
			pprof.WriteHeapProfile(f)
			f.Close()
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			fmt.Fprintf(os.Stderr, "goroutines %d heapinuse %d stackinuse %d sys %d\n", runtime.NumGoroutine(), m.HeapInuse>>10, m.StackInuse>>10, m.Sys>>10)
			f2, _ := os.Create("/tmp/goroutine.txt")
			pprof.Lookup("goroutine").WriteTo(f2, 1)
			f2.Close()
		}
	}()
	err := userspace.Run(context.Background(), name, userspace.Options{}, func() { fmt.Fprintln(os.Stderr, "ready") })
	fmt.Fprintln(os.Stderr, err)
}
