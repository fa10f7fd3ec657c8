package rotateaws_test

import (
	"context"
	"errors"
	"testing"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/rotate"
	"github.com/keywarden/keywarden/internal/rotate/rotateaws"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// TestIAMKeyLifecycle checks, on moto, what rotate relies on from its
// adapter: keys listed oldest first with their status, an unknown key's
// last use wrapping rotate.ErrNoSuchKey, a second delete of a key not an
// error, and WithKey signing as the key's user.
func TestIAMKeyLifecycle(t *testing.T) {
	srv := awstest.Moto(t)
	ctx := context.Background()
	first := srv.CreateUserKey(t, "deploy")
	cfg, err := awsx.Load(ctx, awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	admin := rotateaws.New(cfg)
	second, _, err := admin.CreateKey(ctx, "deploy")
	if err != nil {
		t.Fatal(err)
	}
	if second.ID == "" || second.Secret.IsZero() {
		t.Fatalf("CreateKey returned %v without its secret", second)
	}
	if err := admin.SetActive(ctx, "deploy", first.KeyID, false); err != nil {
		t.Fatal(err)
	}
	keys, err := admin.ListKeys(ctx, "deploy")
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].ID != first.KeyID || keys[0].Active || keys[1].ID != second.ID || !keys[1].Active {
		t.Errorf("ListKeys = %+v, want %s inactive then %s active", keys, first.KeyID, second.ID)
	}

	who, err := admin.WithKey(second).Caller(ctx)
	if err != nil || who.User != "deploy" {
		t.Errorf("WithKey(new key).Caller = %+v, %v; want user deploy", who, err)
	}
	if res := admin.Verify(ctx, second); res.Status != credential.Active {
		t.Errorf("Verify(new key) = %v, %v; want active", res.Status, res.Err)
	}

	for i := range 2 {
		if err := admin.DeleteKey(ctx, "deploy", first.KeyID); err != nil {
			t.Fatalf("delete %d: %v", i+1, err)
		}
	}
	if _, err := admin.LastUsed(ctx, first.KeyID); !errors.Is(err, rotate.ErrNoSuchKey) {
		t.Errorf("LastUsed(deleted key) err = %v, want rotate.ErrNoSuchKey", err)
	}
}
