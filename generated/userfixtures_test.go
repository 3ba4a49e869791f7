package generated_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marketwire/marketwire/generated"
	"github.com/marketwire/marketwire/generated/markets"
	"github.com/marketwire/marketwire/wire"
)

// UserFixtures lists every file of testdata/<market>/user, in name order,
// and each decodes with the market's user dispatcher.
func TestUserFixtures(t *testing.T) {
	for name, m := range markets.All {
		if m.Info.UserStream == nil {
			continue
		}
		files, _ := filepath.Glob(filepath.Join("testdata", name, "user", "*.json"))
		fs := generated.UserFixtures(name)
		if len(fs) == 0 || len(fs) != len(files) {
			t.Errorf("%s: %d fixtures, %d files", name, len(fs), len(files))
			continue
		}
		unknown := 0
		for i, f := range fs {
			if i > 0 && fs[i-1].Name >= f.Name {
				t.Errorf("%s: %s listed after %s", name, f.Name, fs[i-1].Name)
			}
			if _, err := os.Stat(filepath.Join("testdata", name, "user", f.Name+".json")); err != nil {
				t.Errorf("%s: %v", name, err)
			}
			v, err := m.Dispatch["user"](f.Data)
			if err != nil {
				t.Errorf("%s/%s: %v", name, f.Name, err)
				continue
			}
			if _, ok := v.(*wire.UnknownEvent); ok {
				unknown++
				if !strings.HasPrefix(f.Name, "unknown") {
					t.Errorf("%s/%s decodes as an unknown event", name, f.Name)
				}
			}
		}
		if unknown != 1 {
			t.Errorf("%s: %d unknown-kind fixtures, want 1", name, unknown)
		}
	}
	if generated.UserFixtures("nowhere") != nil {
		t.Error("fixtures for an unknown market")
	}
}
