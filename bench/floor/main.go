// Command floor is the smallest Go program that writes a line: the start-up
// cost every Go command pays (the runtime, its first threads and page
// faults). The benchmarks in bench/ report it beside the C tool, as the
// floor a Go `wg --version` can reach.
package main

import "os"

func main() { os.Stdout.WriteString("wireguard-tools\n") }
