package canary

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/state"
)

// A canary saved to the state database comes back from Load, found by key id
// and by user; a key that is no canary's is not found.
func TestRegistryRoundTrip(t *testing.T) {
	ctx := context.Background()
	db, err := state.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := Canary{Name: "billing-export", Account: "123456789012", User: "svc-billing-export", Path: "/service/",
		AccessKeyID: awstest.FakeKeyID("canary", 123456789012), CreatedAt: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC),
		Placements: []Placement{{Format: "dotenv", Path: "app/.env"}, {Format: "csv", Path: "keys.csv"}}}
	rec, err := c.Record("created", false)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Put(ctx, rec); err != nil {
		t.Fatal(err)
	}
	reg, err := Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := reg.ByKey(c.AccessKeyID)
	if !ok || got.Name != c.Name || got.Where() != "dotenv:app/.env, csv:keys.csv" {
		t.Fatalf("ByKey = %+v, %v", got, ok)
	}
	if _, ok := reg.ByUser("123456789012", "svc-billing-export"); !ok {
		t.Error("ByUser did not find the canary user")
	}
	if _, ok := reg.ByKey(awstest.FakeKeyID("other", 123456789012)); ok {
		t.Error("a key that is no canary's was found")
	}
	if _, ok := (*Registry)(nil).ByKey(c.AccessKeyID); ok {
		t.Error("the nil registry found a canary")
	}
}

// A deleted canary's record stays (closed, step deleted) but the registry
// knows it no more: its key and user are gone from IAM.
func TestRegistryForgetsDeletedCanaries(t *testing.T) {
	ctx := context.Background()
	db, err := state.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for name, step := range map[string]string{"kept": StepReady, "gone": StepDeleted, "halfway": StepDeleting} {
		c := Canary{Name: name, Account: "123456789012", User: "u-" + name, AccessKeyID: awstest.FakeKeyID(name, 123456789012)}
		rec, err := c.Record(step, step == StepDeleting)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Put(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	reg, err := Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range reg.All() {
		names = append(names, c.Name)
	}
	if strings.Join(names, ",") != "halfway,kept" {
		t.Errorf("registry holds %v, want halfway (its key may still exist) and kept", names)
	}
}
