package scrub

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestPlacesStayUnderHome(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	places := Places(home)
	for _, p := range places {
		if !strings.HasPrefix(p, home+string(filepath.Separator)) {
			t.Errorf("place %q is not under home", p)
		}
		if dir, ok := isTree(p); ok && hasMeta(dir) {
			t.Errorf("tree place %q has wildcards in its directory", p)
		}
		if strings.Contains(strings.TrimSuffix(p, treeSuffix), treeSuffix) {
			t.Errorf("place %q has ** other than at its end", p)
		}
		if _, err := filepath.Match(filepath.Base(p), ""); err != nil && !strings.HasSuffix(p, treeSuffix) {
			t.Errorf("place %q is a bad pattern: %v", p, err)
		}
	}
	// The ones the brief names, in the order that keeps the important ones
	// inside the budget: ~/.aws first, ~/.config last.
	if want := filepath.Join(home, ".aws") + string(filepath.Separator) + treeSuffix; places[0] != want {
		t.Errorf("first place = %q, want %q", places[0], want)
	}
	if want := filepath.Join(home, ".config") + string(filepath.Separator) + treeSuffix; places[len(places)-1] != want {
		t.Errorf("last place = %q, want %q", places[len(places)-1], want)
	}
	for _, rel := range []string{".bashrc", ".bash_profile", ".profile", ".zshrc", ".zshenv", ".zprofile",
		".config/fish/config.fish", ".docker/config.json", ".netrc", ".s3cfg", ".boto", ".passwd-s3fs",
		".terraformrc", ".npmrc", ".env", "*/.env", "code/*/*/.env"} {
		if !slices.Contains(places, filepath.Join(home, filepath.FromSlash(rel))) {
			t.Errorf("places lack %s", rel)
		}
	}
}

// TestScanFindsEnvFilesToTheDocumentedDepth: .env-like files in home, one
// level below it, and one and two levels into project roots; not deeper.
func TestScanFindsEnvFilesToTheDocumentedDepth(t *testing.T) {
	tests := []struct {
		rel   string
		found bool
	}{
		{".env", true},
		{"prod.env", true},
		{".env.local", true},
		{"myapp/.env", true},
		{"myapp/.envrc", true},
		{"myapp/terraform.tfvars", true},
		{"code/app/.env", true},
		{"code/org/app/.env.production", true},
		{"src/org/app/infra/prod.auto.tfvars", false},
		{"projects/org/app/svc/.env", false},
		{"myapp/sub/.env", false},
		{"Downloads/alice_accessKeys.csv", true},
		{"Downloads/new_user_credentials.csv", true},
		{"Downloads/report.csv", false},
	}
	for _, tt := range tests {
		t.Run(tt.rel, func(t *testing.T) {
			home := t.TempDir()
			k := newKey(tt.rel)
			content := fmt.Sprintf("AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n", k.id, k.sec)
			if strings.HasSuffix(tt.rel, ".csv") {
				content = fmt.Sprintf("Access key ID,Secret access key\n%s,%s\n", k.id, k.sec)
			}
			p := write(t, home, tt.rel, content)
			got, _ := scanHome(t, home)
			if tt.found != (len(got) == 1 && got[0].Path == p && got[0].Importable) {
				t.Errorf("found = %v, want found %v", got, tt.found)
			}
		})
	}
}
