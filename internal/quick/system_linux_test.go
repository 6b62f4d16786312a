package quick

import (
	"context"
	"strings"
	"testing"
)

// TestStarterWithoutSelf: when this program's own path could not be found
// (Options.Self empty), starting the embedded device fails saying so, not
// with an exec error about an empty file name.
func TestStarterWithoutSelf(t *testing.T) {
	err := (&starter{}).Start(context.Background(), "wgx0")
	if err == nil || !strings.Contains(err.Error(), "own path is unknown") {
		t.Fatalf("Start = %v", err)
	}
}
