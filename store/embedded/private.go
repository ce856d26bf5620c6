package embedded

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// The engine has no passwords: whoever reaches its socket reads and changes the whole
// base. Its data directory is therefore this user's alone, and so are its files.

// privateDir creates the data directory for this user alone, or closes an existing
// one to everyone else; it refuses a directory it cannot close.
func privateDir(dir string) (tightened bool, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, fmt.Errorf("cannot create data directory %s: %w", dir, err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return false, fmt.Errorf("data directory %s: %w", dir, err)
	}
	if fi.Mode().Perm()&0o077 == 0 {
		return false, nil
	}
	mode := fi.Mode().Perm()
	err = os.Chmod(dir, 0o700)
	if err == nil {
		// A file system without Unix permissions takes the change and keeps the mode.
		if fi, err = os.Stat(dir); err == nil && fi.Mode().Perm()&0o077 != 0 {
			err = errors.New("the file system keeps it open")
		}
	}
	if err != nil {
		return false, fmt.Errorf("data directory %s is open to other users (mode %04o) and cannot be closed to them: %w; run `chmod 700 %s` as its owner, or use a data directory of this user",
			dir, mode, err, dir)
	}
	return true, nil
}

// privateFiles takes other users' permissions off the lock and the SQLite directory
// and files (an older crm, a copy or a restore may have left them open). SQLite
// creates a new database's file by the umask, so the owner calls this again after
// databases appear; the directory's 0700 keeps others out meanwhile.
func privateFiles(dataDir string) error {
	if err := closeToOthers(filepath.Join(dataDir, lockFile)); err != nil {
		return err
	}
	return filepath.WalkDir(filepath.Join(dataDir, sqliteDir), func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return closeToOthers(path)
	})
}

// closeToOthers takes group and other permissions off a file or directory; anything
// else (a link, a socket) and a file SQLite has just removed are left alone.
func closeToOthers(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && (fi.IsDir() || fi.Mode().IsRegular()) {
		if err := os.Chmod(path, perm&^0o077); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("cannot close %s to other users: %w", path, err)
		}
	}
	return nil
}
