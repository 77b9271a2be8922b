//go:build unix

package config

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestSecretFileFIFOIsRefusedWithoutBlocking(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "secret.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		wantFileRefused(t, fifo, "is a named pipe (FIFO); a secret file must be a regular file")
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second): // a guard against a hang, not synchronisation
		// Opening the other end releases a Resolve stuck in open.
		if w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
		<-done
		t.Fatal("Resolve blocked on a FIFO")
	}
}

func TestSecretFileDeviceIsRefused(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	wantFileRefused(t, "/dev/zero", "is a device; a secret file must be a regular file")
}
