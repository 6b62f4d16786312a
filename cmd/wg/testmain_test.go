package main

import (
	"testing"

	"github.com/wgtools/wgtools/internal/nettest"
)

// TestMain builds the programs the tests run once for all of them, and
// removes them at the end.
func TestMain(m *testing.M) { nettest.Main(m) }
