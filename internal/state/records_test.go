package state

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keywarden/keywarden/internal/secret"
)

func TestPutIsAnUpsert(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	first := Record{Kind: "rotation", ID: "rot-1", Subject: "AKIAIOSFODNN7EXAMPLE", Step: "created",
		Data: []byte(`{"n":1}`), Open: true}
	mustPut(t, db, first)
	before, err := db.Get(ctx, "rotation", "rot-1")
	if err != nil {
		t.Fatal(err)
	}
	second := first
	second.Step, second.Data, second.Open = "done", nil, false
	mustPut(t, db, second)

	got, err := db.List(ctx, "rotation", Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Record{second}, got, ignoreTimes); diff != "" {
		t.Errorf("records after second Put (-want +got):\n%s", diff)
	}
	if !got[0].CreatedAt.Equal(before.CreatedAt) {
		t.Errorf("CreatedAt changed on update: %v -> %v", before.CreatedAt, got[0].CreatedAt)
	}
	if got[0].UpdatedAt.Before(before.UpdatedAt) || got[0].CreatedAt.IsZero() {
		t.Errorf("times after update: created %v, updated %v (was %v)", got[0].CreatedAt, got[0].UpdatedAt, before.UpdatedAt)
	}
}

func TestPutRejects(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	mustPut(t, db, Record{Kind: "rotation", ID: "shared-id"})
	tests := []struct {
		name string
		rec  Record
	}{
		{"missing kind", Record{ID: "x"}},
		{"missing id", Record{Kind: "rotation"}},
		{"data that is not JSON", Record{Kind: "rotation", ID: "x", Data: []byte("{oops")}},
		{"id taken by another kind", Record{Kind: "response", ID: "shared-id", Step: "stolen"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := db.Put(ctx, tt.rec); err == nil {
				t.Error("Put succeeded, want an error")
			}
		})
	}
	if r, err := db.Get(ctx, "rotation", "shared-id"); err != nil || r.Step != "" {
		t.Errorf("record of the other kind = %+v, %v; want it unchanged", r, err)
	}
}

func TestGetMissingIsErrNotFound(t *testing.T) {
	db := openTemp(t)
	mustPut(t, db, Record{Kind: "rotation", ID: "rot-1"})
	for _, c := range [][2]string{{"rotation", "nope"}, {"response", "rot-1"}} {
		if _, err := db.Get(context.Background(), c[0], c[1]); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q, %q) error = %v, want ErrNotFound", c[0], c[1], err)
		}
	}
}

func TestListFilters(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	recs := []Record{
		{Kind: "rotation", ID: "a", Subject: "k1", Open: true},
		{Kind: "rotation", ID: "b", Subject: "k1", Open: false},
		{Kind: "rotation", ID: "c", Subject: "k2", Open: true},
		{Kind: "response", ID: "d", Subject: "k1", Open: true},
	}
	for _, r := range recs {
		mustPut(t, db, r)
	}
	tests := []struct {
		name string
		kind string
		f    Filter
		want []string
	}{
		{"all of a kind, oldest first", "rotation", Filter{}, []string{"a", "b", "c"}},
		{"every kind", "", Filter{}, []string{"a", "b", "c", "d"}},
		{"by subject", "rotation", Filter{Subject: "k1"}, []string{"a", "b"}},
		{"open only", "rotation", Filter{OpenOnly: true}, []string{"a", "c"}},
		{"subject and open", "", Filter{Subject: "k1", OpenOnly: true}, []string{"a", "d"}},
		{"nothing matches", "rotation", Filter{Subject: "k9"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.List(ctx, tt.kind, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, r := range got {
				ids = append(ids, r.ID)
			}
			if diff := cmp.Diff(tt.want, ids); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTxIsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	boom := errors.New("boom")
	err := db.Tx(ctx, func(tx *Tx) error {
		if err := tx.Put(ctx, Record{Kind: "rotation", ID: "rot-1", Step: "created"}); err != nil {
			return err
		}
		if err := tx.PutSecret(ctx, "rot-1", "secret", secret.New("value-1")); err != nil {
			return err
		}
		if err := tx.Log(ctx, "rot-1", "created", "created"); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Tx error = %v, want boom", err)
	}
	if _, err := db.Get(ctx, "rotation", "rot-1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("record after rolled back Tx: %v, want ErrNotFound", err)
	}
	if _, err := db.Secret(ctx, "rot-1", "secret"); !errors.Is(err, ErrNotFound) {
		t.Errorf("secret after rolled back Tx: %v, want ErrNotFound", err)
	}
	if e, _ := db.Entries(ctx, "rot-1"); len(e) != 0 {
		t.Errorf("entries after rolled back Tx: %v", e)
	}

	err = db.Tx(ctx, func(tx *Tx) error {
		if err := tx.Put(ctx, Record{Kind: "rotation", ID: "rot-1"}); err != nil {
			return err
		}
		if _, err := tx.Get(ctx, "rotation", "rot-1"); err != nil {
			return err // a Tx reads its own writes
		}
		return tx.PutSecret(ctx, "rot-1", "secret", secret.New("value-1"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if s, err := db.Secret(ctx, "rot-1", "secret"); err != nil || s.Reveal() != "value-1" {
		t.Errorf("secret after committed Tx = %v, %v", s, err)
	}
}

func TestEntriesInOrder(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	steps := []string{"created", "delivered", "verified", "deactivated"}
	for _, s := range steps {
		if err := db.Log(ctx, "rot-1", s, "did "+s); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Log(ctx, "rot-2", "created", "other"); err != nil {
		t.Fatal(err)
	}
	got, err := db.Entries(ctx, "rot-1")
	if err != nil {
		t.Fatal(err)
	}
	var gotSteps []string
	for i, e := range got {
		gotSteps = append(gotSteps, e.Step)
		if e.Message != "did "+e.Step || e.At.IsZero() || (i > 0 && e.At.Before(got[i-1].At)) {
			t.Errorf("entry %d = %+v", i, e)
		}
	}
	if diff := cmp.Diff(steps, gotSteps); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
}

func TestValues(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	if _, ok, err := db.Value(ctx, "watch", "wm"); ok || err != nil {
		t.Errorf("missing value: ok=%v err=%v", ok, err)
	}
	for _, v := range []string{"one", "two", ""} {
		if err := db.SetValue(ctx, "watch", "wm", []byte(v)); err != nil {
			t.Fatal(err)
		}
		got, ok, err := db.Value(ctx, "watch", "wm")
		if err != nil || !ok || string(got) != v {
			t.Errorf("Value after SetValue(%q) = %q, %v, %v", v, got, ok, err)
		}
	}
	if _, ok, _ := db.Value(ctx, "other", "wm"); ok {
		t.Error("namespaces are not separate")
	}
}

func TestNewIDIsReadableUniqueAndSortable(t *testing.T) {
	re := regexp.MustCompile(`^rot-\d{8}T\d{6}Z-[0-9a-f]{8}$`)
	seen := map[string]bool{}
	var ids []string
	for range 1000 {
		id := NewID("rot")
		if !re.MatchString(id) {
			t.Fatalf("NewID = %q, want %v", id, re)
		}
		if seen[id] {
			t.Fatalf("NewID repeated %q", id)
		}
		seen[id] = true
		ids = append(ids, id)
	}
	// Sorting by id keeps the time order (up to the second).
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	if sorted[0][:20] != ids[0][:20] || sorted[len(sorted)-1][:20] != ids[len(ids)-1][:20] {
		t.Errorf("ids do not sort by time: first %s last %s", sorted[0], sorted[len(sorted)-1])
	}
}

// A panic inside a transaction (a test's kill, or a bug) rolls it back:
// the write lock is not left held, and nothing of it is committed.
func TestTxRollsBackOnPanic(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	func() {
		defer func() { recover() }()
		db.Tx(ctx, func(tx *Tx) error {
			if err := tx.Put(ctx, Record{Kind: "k", ID: "a", Step: "s"}); err != nil {
				t.Fatal(err)
			}
			panic("killed")
		})
	}()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := db.Put(ctx, Record{Kind: "k", ID: "b", Step: "s"}); err != nil {
		t.Fatalf("the next write: %v", err)
	}
	if _, err := db.Get(ctx, "k", "a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the panicked transaction's record: %v, want not found", err)
	}
}
