package state

import (
	"path/filepath"
	"sync"
	"testing"
)

// TestOpenANewDatabaseFromManyAtOnce opens one new database from several
// handles at the same moment, as two first runs (a cron job and a person)
// do: each must see it as keywarden's, whether it finds the file empty,
// mid-migration or migrated. Without Open's lock most runs of this test
// fail: "SQLite database of another program (application id 0x0)" (the
// header read before another opener's migration committed, the schema
// after), or SQLITE_BUSY switching to WAL.
func TestOpenANewDatabaseFromManyAtOnce(t *testing.T) {
	for round := 0; round < 30; round++ {
		path := filepath.Join(t.TempDir(), "state.db")
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				db, err := Open(path)
				if err == nil {
					err = db.Close()
				}
				errs[i] = err
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, opener %d: %v", round, i, err)
			}
		}
	}
}
