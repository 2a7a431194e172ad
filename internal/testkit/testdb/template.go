package testdb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// templateFormat changes whenever the way templates are made changes, so
// stale templates from older code are never used.
const templateFormat = "1"

// Initializing a datadir (mariadb-install-db) is the slow part of Start and
// gets much slower when the machine is busy. The first Start on a machine
// therefore keeps the freshly initialized datadir as a read-only template
// in $TMPDIR and later Starts, in any process, copy it.
//
// A template is keyed by everything that shapes its content (binaries and
// their size and mtime, install arguments, user), built in a private
// directory and renamed into place, so concurrent test binaries either see
// a complete template or none.

// prepareDataDir fills s.dataDir from the template, creating the template
// first if needed, or initializes it directly WithFreshDatadir.
func (s *Server) prepareDataDir(ctx context.Context) error {
	if s.opts.freshDatadir {
		return s.initDataDir(ctx, s.dataDir)
	}
	tmpl, err := s.template(ctx)
	if err != nil {
		return err
	}
	if err := copyTree(tmpl, s.dataDir); err != nil {
		return fmt.Errorf("copy datadir template %s: %w", tmpl, err)
	}
	// MySQL keeps a per-server UUID in auto.cnf; let each copy make its own.
	_ = os.Remove(filepath.Join(s.dataDir, "auto.cnf"))
	return nil
}

// template returns the path of an initialized datadir to copy.
func (s *Server) template(ctx context.Context) (string, error) {
	path := filepath.Join(os.TempDir(), "testdb.template-"+s.templateKey())
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return path, nil
	}
	build, err := os.MkdirTemp(os.TempDir(), "testdb.building-")
	if err != nil {
		return "", fmt.Errorf("create template dir: %w", err)
	}
	defer os.RemoveAll(build) // no-op once renamed
	data := filepath.Join(build, "data")
	if err := s.initDataDir(ctx, data); err != nil {
		return "", err
	}
	if err := os.Rename(data, path); err != nil {
		// Another process won the race; its template is as good as ours.
		if fi, statErr := os.Stat(path); statErr == nil && fi.IsDir() {
			return path, nil
		}
		return "", fmt.Errorf("publish datadir template: %w", err)
	}
	return path, nil
}

// templateKey hashes what determines a template's content.
func (s *Server) templateKey() string {
	h := sha256.New()
	parts := []string{templateFormat, s.bins.server, s.bins.installer}
	for _, bin := range []string{s.bins.server, s.bins.installer} {
		if fi, err := os.Stat(bin); err == nil {
			parts = append(parts, fmt.Sprint(fi.Size(), fi.ModTime().UnixNano()))
		}
	}
	// Templates are private (0700) to the user who made them.
	parts = append(parts, strconv.Itoa(os.Geteuid()))
	parts = append(parts, userArgs()...)
	parts = append(parts, tuningArgs...)
	h.Write([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// copyTree copies the regular files and directories under src to dst.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(target, info.Mode().Perm())
		case info.Mode().IsRegular():
			return copyFile(path, target, info.Mode().Perm())
		default:
			return nil // no sockets or links in a fresh datadir
		}
	})
}

func copyFile(src, dst string, perm fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
