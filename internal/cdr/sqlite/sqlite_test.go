package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/ringo-pbx/ringo/internal/cdr/cdrtest"
)

// harness gives the conformance suite a store in a new directory per test;
// reopening opens the same cdr.db.
func harness() cdrtest.Harness {
	return cdrtest.Harness{New: func(t *testing.T) cdrtest.Opener {
		dir := t.TempDir()
		return func(ctx context.Context) (cdrtest.Engine, error) { return Open(ctx, dir) }
	}}
}

// bothPlans runs a test with the planner's choice and with every full-text
// term forced to the other way of testing its matches.
func bothPlans(t *testing.T, test func(t *testing.T)) {
	for _, limit := range []int{2000, 0} {
		t.Run(fmt.Sprintf("sparseLimit=%d", limit), func(t *testing.T) {
			defer func(old int) { sparseLimit = old }(sparseLimit)
			sparseLimit = limit
			test(t)
		})
	}
}

// TestConformance runs the engine-independent suite under both plans (not
// in parallel: sparseLimit is shared by the package).
func TestConformance(t *testing.T) {
	bothPlans(t, func(t *testing.T) { cdrtest.Run(t, harness()) })
}

// TestFile: the records live in dir/cdr.db, which Open creates.
func TestFile(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := os.Stat(filepath.Join(dir, "cdr.db")); err != nil {
		t.Fatal(err)
	}
}
