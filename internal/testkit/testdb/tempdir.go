package testdb

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/example/secret-rotation/internal/testkit/childproc"
)

const (
	dirPrefix = "testdb-"
	ownerFile = "owner.pid"
)

// makeTempDir creates the server's private directory and records the test
// binary's pid in it, so a later Start can recognise it as abandoned.
func makeTempDir() (string, error) {
	dir, err := os.MkdirTemp("", dirPrefix)
	if err != nil {
		return "", fmt.Errorf("create temp dir: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		_ = os.RemoveAll(dir)
		return "", fmt.Errorf("write owner file: %w", err)
	}
	return dir, nil
}

// removeAbandonedDirs deletes directories left by test binaries that died
// without calling Stop (panic, -timeout, SIGKILL). The parent-death signal
// already killed their servers; this reclaims the disk space. Best effort.
func removeAbandonedDirs() {
	matches, err := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	if err != nil {
		return
	}
	for _, dir := range matches {
		if abandoned(dir) {
			_ = os.RemoveAll(dir)
		}
	}
	// A template build takes seconds; one this old was interrupted.
	builds, _ := filepath.Glob(filepath.Join(os.TempDir(), "testdb.building-*"))
	for _, dir := range builds {
		if fi, err := os.Stat(dir); err == nil && time.Since(fi.ModTime()) > 10*time.Minute {
			_ = os.RemoveAll(dir)
		}
	}
}

func abandoned(dir string) bool {
	for _, f := range []string{ownerFile, "mariadbd.pid"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			if f == ownerFile {
				return false // not ours, or still being created
			}
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 || childproc.Alive(pid) {
			return false
		}
	}
	return true
}
