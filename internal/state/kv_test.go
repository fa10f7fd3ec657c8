package state

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

func TestDeleteValuesBefore(t *testing.T) {
	ctx := context.Background()
	db, err := Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, kv := range [][2]string{{"dedup", "a"}, {"dedup", "b"}, {"baseline", "a"}} {
		if err := db.SetValue(ctx, kv[0], kv[1], []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := db.DeleteValuesBefore(ctx, "dedup", time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("pruning before an hour ago deleted %d (%v), want 0: the values are new", n, err)
	}
	if n, err := db.DeleteValuesBefore(ctx, "dedup", time.Now().Add(time.Second)); err != nil || n != 2 {
		t.Fatalf("pruning before now deleted %d (%v), want both dedup values", n, err)
	}
	if _, ok, _ := db.Value(ctx, "dedup", "a"); ok {
		t.Error("dedup/a survived the prune")
	}
	if _, ok, err := db.Value(ctx, "baseline", "a"); !ok || err != nil {
		t.Errorf("baseline/a = %v, %v after pruning another namespace; want it kept", ok, err)
	}
}
