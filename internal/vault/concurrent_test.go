package vault

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"
)

// The child mode of the test binary: Put childPuts entries into the store at
// $VAULT_TEST_CHILD_PATH, each under a name unique to this child.
const (
	childPathEnv = "VAULT_TEST_CHILD_PATH"
	childIDEnv   = "VAULT_TEST_CHILD_ID"
	childPuts    = 15
)

func TestMain(m *testing.M) {
	if path := os.Getenv(childPathEnv); path != "" {
		os.Exit(runChild(path, os.Getenv(childIDEnv)))
	}
	os.Exit(m.Run())
}

func runChild(path, id string) int {
	s, err := Open(Options{Path: path, ScryptLogN: testLogN})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := barrier(path, id); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for i := range childPuts {
		name := "child-" + id + "-" + strconv.Itoa(i)
		if err := s.Put(name, testEntry(name)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return 0
}

// barrier makes both children start writing together (process start-up
// would otherwise let the first finish before the second begins): each
// announces itself with a file and waits for the other's.
func barrier(path, id string) error {
	if err := os.WriteFile(path+".ready-"+id, nil, 0o600); err != nil {
		return err
	}
	other := "1"
	if id == "1" {
		other = "0"
	}
	for range 10000 {
		if _, err := os.Stat(path + ".ready-" + other); err == nil {
			return nil
		}
		time.Sleep(time.Millisecond)
	}
	return errors.New("the other child never started")
}

// TestConcurrentPutsFromTwoProcessesLoseNothing runs two copies of the test
// binary writing the same store at once: without the lock and the re-read
// under it, one process's version would replace the other's entries.
func TestConcurrentPutsFromTwoProcessesLoseNothing(t *testing.T) {
	s := fileStore(t)
	mustPut(t, s, "seed", testEntry("seed")) // both children open an existing store
	var wg sync.WaitGroup
	errs := make([]error, 2)
	out := make([][]byte, 2)
	for c := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), childPathEnv+"="+s.Path(), childIDEnv+"="+strconv.Itoa(c))
			out[c], errs[c] = cmd.CombinedOutput()
		}()
	}
	wg.Wait()
	for c := range 2 {
		if errs[c] != nil {
			t.Fatalf("child %d: %v\n%s", c, errs[c], out[c])
		}
	}
	list, err := reopen(t, s).List()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2*childPuts+1 {
		t.Fatalf("store holds %d entries, want %d: updates were lost", len(list), 2*childPuts+1)
	}
}

// TestConcurrentPutsInOneProcess covers the in-process path (one Store
// shared by goroutines, and two Stores on one file).
func TestConcurrentPutsInOneProcess(t *testing.T) {
	s := fileStore(t)
	other := reopen(t, s)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := s
			if i%2 == 1 {
				st = other
			}
			name := "g" + strconv.Itoa(i)
			if err := st.Put(name, testEntry(name)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	list, err := reopen(t, s).List()
	if err != nil || len(list) != 8 {
		t.Fatalf("List = %d entries, %v; want 8", len(list), err)
	}
}
