package vault

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/zalando/go-keyring"
)

// keyringService is the service name every keywarden keyring item uses.
const keyringService = "keywarden"

// keyringTimeout bounds every keyring call: a Secret Service that never
// answers (a locked collection waiting for a prompt nobody sees, a wedged
// D-Bus) must turn into an error, not a hung credential_process.
const keyringTimeout = 5 * time.Second

// keyringAccount names the keyring item holding the identity of the store at
// path (absolute), so two stores never share or overwrite one identity.
func keyringAccount(path string) string { return "vault:" + path }

// errKeyringTimeout is returned when the keyring does not answer in time.
var errKeyringTimeout = errors.New("the OS keyring did not answer in time")

// withTimeout runs f on its own goroutine and gives up after keyringTimeout.
// A hung call leaks its goroutine, which is acceptable for a CLI process and
// better than hanging it.
func withTimeout[T any](f func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := f()
		ch <- result{v, err}
	}()
	t := time.NewTimer(keyringTimeout)
	defer t.Stop()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-t.C:
		var zero T
		return zero, errKeyringTimeout
	}
}

func keyringGet(account string) (string, error) {
	return withTimeout(func() (string, error) { return keyring.Get(keyringService, account) })
}

func keyringSet(account, value string) error {
	_, err := withTimeout(func() (struct{}, error) {
		return struct{}{}, keyring.Set(keyringService, account, value)
	})
	return err
}

// probeKeyring reports whether an OS keyring answers: a lookup of an item
// that need not exist succeeds or says "not found".
func probeKeyring() error {
	if err := sessionBusPresent(); err != nil {
		return err
	}
	_, err := keyringGet("probe")
	if err == nil || errors.Is(err, keyring.ErrNotFound) {
		return nil
	}
	return err
}

// sessionBusPresent is a fast negative answer for the Secret Service: with no
// D-Bus session bus address at all, godbus would try to autolaunch one
// (spawning a daemon that outlives us) before failing, so don't ask it.
func sessionBusPresent() error {
	switch runtime.GOOS {
	case "darwin", "windows", "ios":
		return nil
	}
	if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" && a != "autolaunch:" {
		return nil
	}
	candidates := []string{"/run/user/" + strconv.Itoa(os.Getuid()) + "/bus"}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		candidates = append(candidates, filepath.Join(d, "bus"))
	}
	for _, c := range candidates {
		if _, err := os.Stat(c); err == nil {
			return nil
		}
	}
	return fmt.Errorf("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset), so no Secret Service")
}
