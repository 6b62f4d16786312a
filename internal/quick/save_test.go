package quick

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgtools/wgtools/internal/sysexec"
)

// saveFile is a hand-written file: comments, a key spelt its own way.
const saveFile = `# the office
[Interface]
PrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=  # the real one is elsewhere
Address = 10.0.0.2/24
listenport = 51820

# alice
[Peer]
PublicKey = rH88fXnB0eX4gld6mGOlPI0uEQWNrr4nkzuqOl9fklY=
AllowedIPs = 10.9.0.0/16
`

const bobKey = "Gh2NXpK+4jZba0dikMVvSZpGLM3W8/TPAuaN5R3vYkQ="

// upForSave brings wg0 up from saveFile, written to a file, as wg-quick
// does: with the file's bytes, which mark the journal.
func upForSave(t *testing.T) (*Env, *fakeSystem, string, *bytes.Buffer) {
	t.Helper()
	f := newFakeSystem()
	var stderr bytes.Buffer
	e := newEnv(t, f, &sysexec.Recorder{}, &stderr)
	file := filepath.Join(t.TempDir(), "wg0.conf")
	if err := os.WriteFile(file, []byte(saveFile), 0o600); err != nil {
		t.Fatal(err)
	}
	e.ConfigFile, e.ConfigData = file, []byte(saveFile)
	if err := e.Up(context.Background(), "wg0", parse(t, saveFile)); err != nil {
		t.Fatalf("up: %v\n%s", err, stderr.String())
	}
	return e, f, file, &stderr
}

func addBob(t *testing.T, f *fakeSystem) {
	t.Helper()
	k, _ := wgtypes.ParseKey(bobKey)
	if err := f.Configure("wg0", wgtypes.Config{Peers: []wgtypes.PeerConfig{{PublicKey: k, AllowedIPs: ipNets(nil)}}}); err != nil {
		t.Fatal(err)
	}
}

func save(t *testing.T, e *Env, file string, opts SaveOptions) error {
	t.Helper()
	return e.Save(context.Background(), "wg0", parse(t, saveFile), file, opts)
}

// TestSaveInPlace: a peer added at run time is appended, everything else
// stays byte for byte; a save with nothing to change does not write the
// file (its modification time stays).
func TestSaveInPlace(t *testing.T) {
	e, f, file, _ := upForSave(t)
	old := time.Unix(1_000_000_000, 0)
	if err := os.Chtimes(file, old, old); err != nil {
		t.Fatal(err)
	}
	if err := save(t, e, file, SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(file); err != nil || !st.ModTime().Equal(old) {
		t.Fatalf("an unchanged interface's save wrote the file: %v %v", st.ModTime(), err)
	}
	addBob(t, f)
	if err := save(t, e, file, SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(file)
	if want := saveFile + "\n[Peer]\nPublicKey = " + bobKey + "\n"; string(got) != want {
		t.Fatalf("saved:\n%s\nwant:\n%s", got, want)
	}
	// The save moved the mark: saving again is not refused.
	if err := save(t, e, file, SaveOptions{}); err != nil {
		t.Fatalf("a second save: %v", err)
	}
}

// TestSaveRefusesEditedFile: a file edited since up is not written over;
// the error shows the edit with secrets hidden; --force saves, keeping the
// edit where the interface does not contradict it.
func TestSaveRefusesEditedFile(t *testing.T) {
	e, f, file, _ := upForSave(t)
	addBob(t, f)
	edited := strings.Replace(saveFile, "# alice\n", "# alice, since 2026\n", 1)
	edited = strings.Replace(edited, "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=", "WI1rHcprnIjxfq8+CWIpH7U5e5SaaQZqMFnFLys7nFQ=", 1)
	if err := os.WriteFile(file, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	err := save(t, e, file, SaveOptions{})
	if !errors.Is(err, ErrEditedSince) {
		t.Fatalf("save of an edited file: %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"-# alice\n", "+# alice, since 2026\n", "wg-quick save --force wg0"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "WI1rHcpr") || strings.Contains(msg, "yAnz5TF") {
		t.Errorf("message shows a private key:\n%s", msg)
	}
	if got, _ := os.ReadFile(file); string(got) != edited {
		t.Fatalf("the edited file was changed:\n%s", got)
	}
	if err := save(t, e, file, SaveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(file)
	want := strings.Replace(edited, "WI1rHcprnIjxfq8+CWIpH7U5e5SaaQZqMFnFLys7nFQ=", "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=", 1) + "\n[Peer]\nPublicKey = " + bobKey + "\n"
	if string(got) != want {
		t.Fatalf("forced save:\n%s\nwant:\n%s", got, want)
	}
}

// TestSaveDryRun prints the diff, secrets hidden, and writes nothing.
func TestSaveDryRun(t *testing.T) {
	e, f, file, _ := upForSave(t)
	addBob(t, f)
	var out bytes.Buffer
	if err := save(t, e, file, SaveOptions{DryRun: true, Out: &out}); err != nil {
		t.Fatal(err)
	}
	want := "--- " + file + "\n+++ " + file + "\n@@ -8,3 +8,6 @@\n [Peer]\n PublicKey = rH88fXnB0eX4gld6mGOlPI0uEQWNrr4nkzuqOl9fklY=\n AllowedIPs = 10.9.0.0/16\n+\n+[Peer]\n+PublicKey = " + bobKey + "\n"
	if out.String() != want {
		t.Errorf("dry run printed:\n%s\nwant:\n%s", out.String(), want)
	}
	if got, _ := os.ReadFile(file); string(got) != saveFile {
		t.Fatalf("dry run wrote the file:\n%s", got)
	}
}

// TestSaveFaultAtEveryStep makes each file step of a save fail in turn
// (the journal's writes, the file's temporary file, fsync, rename, the
// directory's fsync): the file is then the old one or the new one, with
// mode 0600, and the next save finishes the job; it does not take the
// half-done write for an edit of the user's.
func TestSaveFaultAtEveryStep(t *testing.T) {
	var steps []string
	{
		e, f, file, _ := upForSave(t)
		addBob(t, f)
		e.FileStep = func(op, path string) error { steps = append(steps, op+" "+filepath.Base(path)); return nil }
		if err := save(t, e, file, SaveOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if len(steps) < 8 {
		t.Fatalf("a save made only these steps: %v", steps)
	}
	newText := saveFile + "\n[Peer]\nPublicKey = " + bobKey + "\n"
	for n := range steps {
		t.Run(fmt.Sprint(n, " ", steps[n]), func(t *testing.T) {
			e, f, file, _ := upForSave(t)
			addBob(t, f)
			i := 0
			e.FileStep = func(op, path string) error {
				if i++; i == n+1 {
					return errors.New("injected")
				}
				return nil
			}
			if err := save(t, e, file, SaveOptions{}); err == nil {
				t.Fatal("the save did not fail")
			}
			got, _ := os.ReadFile(file)
			if string(got) != saveFile && string(got) != newText {
				t.Fatalf("the file is neither old nor new:\n%s", got)
			}
			if st, err := os.Stat(file); err != nil || st.Mode().Perm() != 0o600 {
				t.Fatalf("mode %v, %v", st.Mode(), err)
			}
			e.FileStep = nil
			if err := save(t, e, file, SaveOptions{}); err != nil {
				t.Fatalf("the next save: %v", err)
			}
			if got, _ := os.ReadFile(file); string(got) != newText {
				t.Fatalf("not saved:\n%s", got)
			}
			if temps, _ := filepath.Glob(filepath.Join(filepath.Dir(file), ".*.tmp*")); len(temps) > 0 {
				t.Fatalf("temporary files left: %v", temps)
			}
		})
	}
}

// TestDownKeepsEditedFile: SaveConfig on down keeps a file edited while
// the interface was up, says so, and takes the interface down.
func TestDownKeepsEditedFile(t *testing.T) {
	e, f, file, stderr := upForSave(t)
	addBob(t, f)
	text := strings.Replace(saveFile, "listenport = 51820\n", "listenport = 51820\nSaveConfig = true\n", 1)
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := e.Down(context.Background(), "wg0", parse(t, text), file); err != nil {
		t.Fatalf("down: %v\n%s", err, stderr)
	}
	if got, _ := os.ReadFile(file); string(got) != text {
		t.Fatalf("down wrote over the edited file:\n%s", got)
	}
	if !strings.Contains(stderr.String(), "keeping the edited file") {
		t.Errorf("down did not say it kept the file:\n%s", stderr)
	}
	if _, ok := f.links["wg0"]; ok {
		t.Errorf("not down:\n%s", f)
	}
}

// TestSaveEditedKeyOnly: an edit of a hidden key alone is still an edit,
// and the message says that is all it is.
func TestSaveEditedKeyOnly(t *testing.T) {
	e, _, file, _ := upForSave(t)
	edited := strings.Replace(saveFile, "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=", "WI1rHcprnIjxfq8+CWIpH7U5e5SaaQZqMFnFLys7nFQ=", 1)
	if err := os.WriteFile(file, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	err := save(t, e, file, SaveOptions{})
	if !errors.Is(err, ErrEditedSince) || !strings.Contains(err.Error(), "(only a hidden key differs)") || strings.Contains(err.Error(), "WI1rHcpr") {
		t.Fatalf("save: %v", err)
	}
}

// TestSaveReadsBounded: save reads the file again under the lock, as
// bounded as every configuration read: a file replaced by a link to an
// endless one fails with the bound's error instead of filling memory.
func TestSaveReadsBounded(t *testing.T) {
	e, _, file, _ := upForSave(t)
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", file); err != nil {
		t.Fatal(err)
	}
	err := save(t, e, file, SaveOptions{})
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("save of an endless file: %v", err)
	}
}
