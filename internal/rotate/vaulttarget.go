package rotate

import (
	"context"
	"fmt"
	"strings"

	"github.com/keywarden/keywarden/internal/rotate/target"
	"github.com/keywarden/keywarden/internal/vault"
)

// VaultSpec is the target spec of profiles whose key is in keywarden's
// encrypted store (imported with 'creds import'): "vault:default,ci".
func VaultSpec(profiles []string) string { return "vault:" + strings.Join(profiles, ",") }

// vaultTarget replaces the key of profiles in the store and drops the
// sessions cached for them (they were minted from the old key).
type vaultTarget struct {
	spec     string
	profiles []string
	open     func() (*vault.Store, error)
}

func (t *vaultTarget) String() string { return t.spec }

func (t *vaultTarget) Deliver(_ context.Context, c target.Credentials) (func(context.Context) error, error) {
	store, err := t.open()
	if err != nil {
		return nil, fmt.Errorf("deliver to %s: %w", t.spec, err)
	}
	old := map[string]vault.Entry{}
	for _, p := range t.profiles {
		e, err := store.Get(p)
		if err != nil {
			return nil, fmt.Errorf("deliver to %s: %w", t.spec, err)
		}
		old[p] = e
	}
	put := func(entry func(vault.Entry) vault.Entry) error {
		for _, p := range t.profiles {
			if err := store.Put(p, entry(old[p])); err != nil {
				return err
			}
			if err := store.DropSessions(p + ":"); err != nil {
				return err
			}
		}
		return nil
	}
	err = put(func(e vault.Entry) vault.Entry {
		e.AccessKeyID, e.SecretAccessKey = c.AccessKeyID, c.SecretAccessKey
		return e
	})
	if err != nil {
		return nil, fmt.Errorf("deliver to %s: %w", t.spec, err)
	}
	restore := func(context.Context) error {
		return put(func(e vault.Entry) vault.Entry { return e })
	}
	return restore, nil
}
