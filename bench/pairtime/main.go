// Command pairtime times whole processes, interleaved, for the benchmarks in
// bench/: every round runs each command once, in turn, so that all of them
// see the same machine (a busy neighbour or a CPU frequency change shifts
// every column of a round, not one command's runs).
//
//	pairtime [-n RUNS] [-warmup N] [-stdin FILE] -- CMD ARGS... [::: CMD ARGS...]...
//
// It prints one line per command: the median wall time in milliseconds,
// the median peak resident set (the kernel's ru_maxrss of the process, in
// KiB) and the median of the per-round ratio to the first command. The
// ratio is taken round by round, so it holds when the machine's speed drifts
// during the run. Output of the commands is discarded; with -stdin each run
// reads that file.
//
// A command is started directly (no shell), so nothing but the command
// itself is inside the timed region. Time a pipeline with `sh -c` on both
// sides, and never put `ip netns exec` inside: run pairtime itself in the
// namespace instead.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	runs := flag.Int("n", 21, "counted rounds")
	warmup := flag.Int("warmup", 2, "rounds run first and not counted")
	stdin := flag.String("stdin", "", "file each run reads as standard input")
	flag.Parse()
	cmds := split(flag.Args())
	if len(cmds) == 0 || *runs < 1 {
		fmt.Fprintln(os.Stderr, "usage: pairtime [-n RUNS] [-warmup N] [-stdin FILE] -- CMD ARGS... [::: CMD ARGS...]...")
		os.Exit(2)
	}
	wall := make([][]float64, len(cmds))
	rss := make([][]float64, len(cmds))
	ratio := make([][]float64, len(cmds))
	for round := range *warmup + *runs {
		var first float64
		for i, c := range cmds {
			ms, kib, err := once(c, *stdin)
			if err != nil {
				fmt.Fprintf(os.Stderr, "pairtime: %s: %v\n", strings.Join(c, " "), err)
				os.Exit(1)
			}
			if round < *warmup {
				continue
			}
			if i == 0 {
				first = ms
			}
			wall[i] = append(wall[i], ms)
			rss[i] = append(rss[i], kib)
			ratio[i] = append(ratio[i], ms/first)
		}
	}
	for i, c := range cmds {
		fmt.Printf("%.2f\t%.0f\t%.3f\t%s\n", median(wall[i]), median(rss[i]), median(ratio[i]), strings.Join(c, " "))
	}
}

// once runs c and returns its wall time in milliseconds and its peak RSS in
// KiB. A command that exits non-zero is an error: a benchmark of a failing
// command measures the failure.
func once(c []string, stdin string) (ms, kib float64, err error) {
	cmd := exec.Command(c[0], c[1:]...)
	if stdin != "" {
		f, err := os.Open(stdin)
		if err != nil {
			return 0, 0, err
		}
		defer f.Close()
		cmd.Stdin = f
	}
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, 0, err
	}
	ms = float64(time.Since(start).Microseconds()) / 1000
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		kib = float64(ru.Maxrss)
	}
	return ms, kib, nil
}

// split cuts args at each ":::" into commands.
func split(args []string) [][]string {
	var cmds [][]string
	var cur []string
	for _, a := range args {
		if a == ":::" {
			if len(cur) > 0 {
				cmds = append(cmds, cur)
			}
			cur = nil
			continue
		}
		cur = append(cur, a)
	}
	if len(cur) > 0 {
		cmds = append(cmds, cur)
	}
	return cmds
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
