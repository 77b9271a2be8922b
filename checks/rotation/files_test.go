package rotation_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/credmon/credmon/checks/config"
	"github.com/credmon/credmon/checks/rotation"
)

// The files real secret systems write, reproduced on disk. Each layout
// must give: a changed value seen as one rotation at the next evaluation
// (credmon re-reads a file secret at every look), an unchanged value
// rewritten or re-linked not seen as one, and a half-written file never
// read.

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// kubeletVolume is a Kubernetes Secret volume as the kubelet's atomic
// writer keeps it: the data in a timestamped directory, `..data` a symlink
// to it, and each key a symlink through `..data`.
type kubeletVolume struct {
	t   *testing.T
	dir string
}

// stage writes a payload into a new timestamped directory, named as the
// atomic writer names it (a timestamp, then random digits).
func (k *kubeletVolume) stage(values map[string]string) string {
	ts, err := os.MkdirTemp(k.dir, "..2026_12_02_05_00_00.")
	if err != nil {
		k.t.Fatal(err)
	}
	for key, v := range values {
		mustWrite(k.t, filepath.Join(ts, key), v)
	}
	return ts
}

// publish swaps `..data` to ts atomically (symlink beside it, then rename),
// links the keys, and removes the old directory.
func (k *kubeletVolume) publish(ts string, keys ...string) {
	t := k.t
	data := filepath.Join(k.dir, "..data")
	old, _ := os.Readlink(data)
	tmp := filepath.Join(k.dir, "..data_tmp")
	if err := os.Symlink(filepath.Base(ts), tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, data); err != nil {
		t.Fatal(err)
	}
	for _, key := range keys {
		link := filepath.Join(k.dir, key)
		if _, err := os.Lstat(link); err != nil {
			if err := os.Symlink(filepath.Join("..data", key), link); err != nil {
				t.Fatal(err)
			}
		}
	}
	if old != "" {
		if err := os.RemoveAll(filepath.Join(k.dir, old)); err != nil {
			t.Fatal(err)
		}
	}
}

type layout struct {
	name string
	// setup writes the first value and returns the path credmon reads.
	setup func(t *testing.T, dir, value string) string
	// update writes a new value as the system does; half, when not nil,
	// stops halfway: the new value partly written, not yet published.
	update func(t *testing.T, dir, value string, half bool)
}

var layouts = []layout{
	{
		name: "kubernetes secret volume",
		setup: func(t *testing.T, dir, value string) string {
			k := &kubeletVolume{t: t, dir: dir}
			k.publish(k.stage(map[string]string{"api-key": value}), "api-key")
			return filepath.Join(dir, "api-key")
		},
		update: func(t *testing.T, dir, value string, half bool) {
			k := &kubeletVolume{t: t, dir: dir}
			if half {
				// The kubelet has written part of the new payload into its
				// new timestamped directory; ..data still points at the old.
				k.stage(map[string]string{"api-key": value[:len(value)/2]})
				return
			}
			k.publish(k.stage(map[string]string{"api-key": value}), "api-key")
		},
	},
	{
		name: "vault agent / consul-template (temp file, then rename)",
		setup: func(t *testing.T, dir, value string) string {
			mustWrite(t, filepath.Join(dir, "api-key"), value)
			return filepath.Join(dir, "api-key")
		},
		update: func(t *testing.T, dir, value string, half bool) {
			tmp := filepath.Join(dir, ".api-key.tmp.4711")
			if half {
				mustWrite(t, tmp, value[:len(value)/2])
				return
			}
			mustWrite(t, tmp, value+"\n") // templates usually end with a newline
			if err := os.Rename(tmp, filepath.Join(dir, "api-key")); err != nil {
				t.Fatal(err)
			}
		},
	},
	{
		name: "docker secret (/run/secrets plain file, replaced on redeploy)",
		setup: func(t *testing.T, dir, value string) string {
			mustWrite(t, filepath.Join(dir, "run", "secrets", "api_key"), value)
			return filepath.Join(dir, "run", "secrets", "api_key")
		},
		update: func(t *testing.T, dir, value string, half bool) {
			if half {
				// A redeploy mounts a complete file; there is no
				// half-written state to reproduce.
				return
			}
			mustWrite(t, filepath.Join(dir, "run", "secrets", "api_key"), value)
		},
	},
}

func TestSecretFileLayouts(t *testing.T) {
	for _, l := range layouts {
		t.Run(l.name, func(t *testing.T) {
			dir := t.TempDir()
			path := l.setup(t, dir, keyA)
			clk := newClock(mustTime(t, "2026-12-02"))
			tr := newTracker(newKV(), clk)
			c := cred(config.FromFile(path), autoRotation())
			read := func() string {
				t.Helper()
				v, err := c.Secret.Resolve()
				if err != nil {
					t.Fatalf("resolve %s: %v", path, err)
				}
				return v.Text
			}
			look := func() *rotation.Evaluation {
				clk.Add(day)
				return evaluate(t, tr, c, nil)
			}
			if ev := look(); ev.Rotated != nil || read() != keyA {
				t.Fatalf("first look: rotated %+v, value ok %v", ev.Rotated, read() == keyA)
			}

			// Half-written: the old value, whole, and no rotation.
			l.update(t, dir, keyB, true)
			if read() != keyA {
				t.Fatal("a half-written update was read")
			}
			if ev := look(); ev.Rotated != nil {
				t.Fatalf("half-written update taken for a rotation: %+v", ev.Rotated)
			}

			// The same value written again: not a rotation.
			l.update(t, dir, keyA, false)
			if ev := look(); ev.Rotated != nil || read() != keyA {
				t.Fatalf("unchanged value rewritten taken for a rotation: %+v", ev.Rotated)
			}

			// A new value: one rotation at the next look, then none.
			l.update(t, dir, keyB, false)
			ev := look()
			if ev.Rotated == nil || read() != keyB {
				t.Fatalf("new value not seen as a rotation (value is new: %v)", read() == keyB)
			}
			if ev := look(); ev.Rotated != nil {
				t.Fatalf("one rotation reported twice: %+v", ev.Rotated)
			}
			assertNoSecret(t, ev, keyA, keyB)
		})
	}
}
