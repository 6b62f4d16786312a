// Command pairtime times whole processes, interleaved, for the benchmarks in
// bench/: every round runs each command once, in turn, so that all of them
// see the same machine (a busy neighbour or a CPU frequency change shifts
// every column of a round, not one command's runs).
//
//	pairtime [-n RUNS] [-warmup N] [-stdin FILE] [-before 'CMD ARGS'] -- CMD ARGS... [::: CMD ARGS...]...
//
// It prints one line per command, tab-separated: the median wall time in
// milliseconds, the median of the per-round ratio to the first command, and
// the peak resident set in KiB. The ratio is taken round by round, so it
// holds when the machine's speed drifts during the run. Output of the
// commands is discarded; with -stdin each run reads that file. With -before,
// that command (split at spaces) runs, untimed, before every timed run: the
// reset a `setconf from empty` needs.
//
// The peak resident set comes from separate runs under GNU time
// (/usr/bin/time -f %M), not from the timed runs: the kernel's ru_maxrss of
// a child started by a Go program counts the parent's memory too (the child
// shares it until exec), so every command would read as pairtime's own size.
// Without /usr/bin/time the column is "-".
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
	"strconv"
	"strings"
	"time"
)

func main() {
	runs := flag.Int("n", 21, "counted rounds")
	warmup := flag.Int("warmup", 2, "rounds run first and not counted")
	stdin := flag.String("stdin", "", "file each run reads as standard input")
	before := flag.String("before", "", "command run, untimed, before every run")
	flag.Parse()
	cmds := split(flag.Args())
	if len(cmds) == 0 || *runs < 1 {
		fmt.Fprintln(os.Stderr, "usage: pairtime [-n RUNS] [-warmup N] [-stdin FILE] -- CMD ARGS... [::: CMD ARGS...]...")
		os.Exit(2)
	}
	var reset []string
	if *before != "" {
		reset = strings.Fields(*before)
	}
	wall := make([][]float64, len(cmds))
	ratio := make([][]float64, len(cmds))
	for round := range *warmup + *runs {
		var first float64
		for i, c := range cmds {
			if reset != nil {
				if _, err := once(reset, ""); err != nil {
					fmt.Fprintf(os.Stderr, "pairtime: %s: %v\n", *before, err)
					os.Exit(1)
				}
			}
			ms, err := once(c, *stdin)
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
			ratio[i] = append(ratio[i], ms/first)
		}
	}
	for i, c := range cmds {
		fmt.Printf("%.2f\t%.3f\t%s\t%s\n", median(wall[i]), median(ratio[i]), peakRSS(c, *stdin, reset), strings.Join(c, " "))
	}
}

// once runs c and returns its wall time in milliseconds. A command that
// exits non-zero is an error: a benchmark of a failing command measures the
// failure.
func once(c []string, stdin string) (ms float64, err error) {
	cmd := exec.Command(c[0], c[1:]...)
	if stdin != "" {
		f, err := os.Open(stdin)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		cmd.Stdin = f
	}
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, err
	}
	return float64(time.Since(start).Microseconds()) / 1000, nil
}

// peakRSS is the median of three runs' peak resident set in KiB, as GNU
// time reports it, or "-" without it.
func peakRSS(c []string, stdin string, reset []string) string {
	var kib []float64
	for range 3 {
		if reset != nil {
			if _, err := once(reset, ""); err != nil {
				return "-"
			}
		}
		out, err := os.CreateTemp("", "pairtime")
		if err != nil {
			return "-"
		}
		out.Close()
		defer os.Remove(out.Name())
		args := append([]string{"-f", "%M", "-o", out.Name()}, c...)
		if _, err := once(append([]string{"/usr/bin/time"}, args...), stdin); err != nil {
			return "-"
		}
		b, err := os.ReadFile(out.Name())
		if err != nil {
			return "-"
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(string(b)), 64)
		if err != nil {
			return "-"
		}
		kib = append(kib, v)
	}
	return strconv.FormatFloat(median(kib), 'f', 0, 64)
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
