package state

import (
	"context"
	"fmt"
	"testing"

	"github.com/keywarden/keywarden/internal/secret"
)

// BenchmarkPut is the cost of journaling one step durably (one fsynced
// transaction), which rotate and respond pay before every change.
func BenchmarkPut(b *testing.B) {
	ctx := context.Background()
	db := openTemp(b)
	r := Record{Kind: "rotation", ID: "rot-1", Subject: "AKIAIOSFODNN7EXAMPLE", Open: true,
		Data: []byte(`{"user":"alice","targets":["credentials","ssm:/app/key"]}`)}
	i := 0
	for b.Loop() {
		r.Step = fmt.Sprint("step-", i)
		i++
		if err := db.Put(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJournalNewKey is rotate's first write: record + secret + history
// line in one transaction.
func BenchmarkJournalNewKey(b *testing.B) {
	ctx := context.Background()
	db := openTemp(b)
	s := secret.New("benchmark-secret-value-of-forty-chars-xx")
	i := 0
	for b.Loop() {
		id := fmt.Sprint("rot-", i)
		i++
		err := db.Tx(ctx, func(tx *Tx) error {
			if err := tx.Put(ctx, Record{Kind: "rotation", ID: id, Step: "created", Open: true}); err != nil {
				return err
			}
			if err := tx.PutSecret(ctx, id, "secret_access_key", s); err != nil {
				return err
			}
			return tx.Log(ctx, id, "created", "created new access key")
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGet(b *testing.B) {
	ctx := context.Background()
	db := openTemp(b)
	mustPut(b, db, Record{Kind: "rotation", ID: "rot-1", Data: []byte(`{"a":1}`)})
	for b.Loop() {
		if _, err := db.Get(ctx, "rotation", "rot-1"); err != nil {
			b.Fatal(err)
		}
	}
}
