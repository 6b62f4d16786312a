package userspace

import (
	"errors"
	"fmt"
	"io/fs"
	"runtime/debug"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLogLevelFromEnv(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{in: "verbose", want: LogVerbose},
		{in: "debug", want: LogVerbose},
		{in: "error", want: LogError},
		{in: "silent", want: LogSilent},
		{in: "", want: LogError},
		{in: "VERBOSE", want: LogError}, // wireguard-go compares exactly
		{in: "info", want: LogError},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.in), func(t *testing.T) {
			if got := LogLevelFromEnv(tt.in); got != tt.want {
				t.Errorf("LogLevelFromEnv(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

func Test_levelLogf(t *testing.T) {
	tests := []struct {
		name  string
		level int
		want  []string
	}{
		{name: "silent", level: LogSilent, want: nil},
		{name: "error", level: LogError, want: []string{"ERROR: (wg%0) error 2"}},
		{name: "verbose", level: LogVerbose, want: []string{"DEBUG: (wg%0) debug 1", "ERROR: (wg%0) error 2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			logf := func(format string, args ...any) { got = append(got, fmt.Sprintf(format, args...)) }
			verbosef, errorf := levelLogf(Options{Logf: logf, LogLevel: tt.level}, "wg%0")
			verbosef("debug %d", 1)
			errorf("error %d", 2)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("unexpected messages (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("nil Logf", func(t *testing.T) {
		verbosef, errorf := levelLogf(Options{LogLevel: LogVerbose}, "wg0")
		verbosef("discarded")
		errorf("discarded")
	})
}

func Test_checkName(t *testing.T) {
	tests := []struct {
		name    string
		wantErr bool
	}{
		{name: "wg0"},
		{name: "a"},
		{name: "wgt-abc-12_=+.x"},
		{name: "fifteen-chars-x"},
		{name: "", wantErr: true},
		{name: "sixteen-chars-xx", wantErr: true},
		{name: ".", wantErr: true},
		{name: "..", wantErr: true},
		{name: "wg/0", wantErr: true},
		{name: "wg:0", wantErr: true},
		{name: "wg 0", wantErr: true},
		{name: "wg\t0", wantErr: true},
		{name: "wg%d", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.name), func(t *testing.T) {
			err := checkName(tt.name)
			if (err != nil) != tt.wantErr {
				t.Errorf("checkName(%q) = %v, want error: %v", tt.name, err, tt.wantErr)
			}
		})
	}
}

func Test_existsError(t *testing.T) {
	err := fmt.Errorf("context: %w", existsError("interface wg0 already exists"))
	if !errors.Is(err, fs.ErrExist) {
		t.Errorf("errors.Is(%v, fs.ErrExist) = false", err)
	}
	if got, want := err.Error(), "context: interface wg0 already exists"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func Test_failureReport(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{name: "plain", err: errors.New("boom"), want: "Eboom"},
		{name: "exists", err: fmt.Errorf("x: %w", fs.ErrExist), want: "Xx: file already exists"},
		{name: "existsError", err: existsError("interface wg0 already exists"), want: "Xinterface wg0 already exists"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, string(failureReport(tt.err))); diff != "" {
				t.Errorf("unexpected report (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPauseGCForStartup: the collector is off between the pause and the
// resume, and back at its previous setting after it (resume twice is
// harmless).
func TestPauseGCForStartup(t *testing.T) {
	prev := debug.SetGCPercent(77)
	defer debug.SetGCPercent(prev)
	resume := PauseGCForStartup()
	if got := debug.SetGCPercent(-1); got != -1 {
		t.Errorf("GC percent during the pause: %d, want -1 (off)", got)
	}
	resume()
	resume()
	if got := debug.SetGCPercent(77); got != 77 {
		t.Errorf("GC percent after resume: %d, want 77", got)
	}
}
