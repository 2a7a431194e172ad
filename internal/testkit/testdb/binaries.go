package testdb

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ErrNoServerBinary is returned (wrapped) by Start when neither mariadbd nor
// mysqld is installed. The wrapping message lists the directories searched
// and says what to install: installHint.
var ErrNoServerBinary = errors.New("no MariaDB/MySQL server binary found")

const installHint = "install `mariadb-server` (apt-get install -y mariadb-server)"

// defaultSearchDirs are searched after $PATH: Debian puts mariadbd in
// /usr/sbin, which is not on a non-root $PATH, and RPM distributions use
// /usr/libexec.
var defaultSearchDirs = []string{"/usr/sbin", "/usr/libexec", "/usr/local/sbin", "/usr/bin", "/usr/local/bin"}

// binaries are the programs needed to run a throwaway server.
type binaries struct {
	server string // mariadbd or mysqld
	// installer is mariadb-install-db or mysql_install_db; empty means the
	// server initializes its own datadir (MySQL: mysqld --initialize-insecure).
	installer string
}

func searchDirs(o options) []string {
	if o.searchPath != nil {
		return o.searchPath
	}
	dirs := filepath.SplitList(os.Getenv("PATH"))
	return append(dirs, defaultSearchDirs...)
}

// findBinaries locates the server and its datadir installer.
func findBinaries(o options) (binaries, error) {
	dirs := searchDirs(o)
	server := findExecutable(dirs, "mariadbd", "mysqld")
	if server == "" {
		return binaries{}, fmt.Errorf("%w (looked for mariadbd and mysqld in %s): %s",
			ErrNoServerBinary, strings.Join(dirs, ":"), installHint)
	}
	b := binaries{server: server}
	if !isMariaDB(server) {
		// MySQL 8 initializes its datadir itself (--initialize-insecure).
		return b, nil
	}
	// Prefer the installer next to the server, then anywhere on the path.
	local := []string{filepath.Dir(server), filepath.Join(filepath.Dir(server), "..", "bin")}
	b.installer = findExecutable(append(local, dirs...), "mariadb-install-db", "mysql_install_db")
	if b.installer == "" {
		return binaries{}, fmt.Errorf("found %s but not mariadb-install-db: %s", server, installHint)
	}
	return b, nil
}

// findExecutable returns the first of names found in dirs (names are tried
// in order across all dirs, so mariadbd anywhere beats mysqld anywhere).
func findExecutable(dirs []string, names ...string) string {
	for _, name := range names {
		for _, dir := range dirs {
			if dir == "" {
				continue
			}
			p := filepath.Join(dir, name)
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
				return p
			}
		}
	}
	return ""
}

// isMariaDB reports whether the server binary is MariaDB's. Debian and
// others install mysqld as a symlink to mariadbd, and old MariaDB releases
// call the binary mysqld, so the name alone is not enough.
func isMariaDB(server string) bool {
	if real, err := filepath.EvalSymlinks(server); err == nil {
		server = real
	}
	if strings.Contains(filepath.Base(server), "mariadb") {
		return true
	}
	out, err := exec.Command(server, "--version").Output()
	return err == nil && strings.Contains(string(out), "MariaDB")
}
