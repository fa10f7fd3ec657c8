package canary

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/joho/godotenv"
	"go.yaml.in/yaml/v3"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/secret"
)

// fakeKey is a well-formed key for seed (never a real one).
func fakeKey(seed string) credential.Key {
	return credential.Key{ID: awstest.FakeKeyID(seed, 123456789012), Secret: secret.New(awstest.FakeSecret(seed))}
}

// before is what each placement's file holds before the canary is planted
// ("" = no file): the canary's block goes after, every byte of it kept.
var before = map[string]string{
	"credentials": "[default]\naws_access_key_id=" + awstest.FakeKeyID("mine", 123456789012) + "\naws_secret_access_key=" + awstest.FakeSecret("mine"), // no final newline
	"dotenv":      "# app settings\nDATABASE_URL=postgres://app@db/app\n",
	"export":      "export PATH=$PATH:/opt/bin",
	"tfvars":      "region = \"eu-west-1\"\n",
	"k8s":         "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  LOG_LEVEL: info\n",
	"envfile":     "",
	"json":        "",
	"csv":         "",
	"gha":         "",
}

// readBack reads the key a placement file holds with the tool that reads
// that format.
func readBack(t *testing.T, format, path, name string) (id, sec string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	switch format {
	case "credentials": // the aws CLI itself
		if _, err := exec.LookPath("aws"); err != nil {
			awstest.SkipOrFail(t, "aws CLI not found on PATH")
		}
		get := func(k string) string {
			cmd := exec.Command("aws", "configure", "get", k, "--profile", name)
			cmd.Env = append(os.Environ(), "AWS_SHARED_CREDENTIALS_FILE="+path, "AWS_CONFIG_FILE="+filepath.Join(t.TempDir(), "none"))
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("aws configure get %s --profile %s: %v", k, name, err)
			}
			return strings.TrimSpace(string(out))
		}
		return get("aws_access_key_id"), get("aws_secret_access_key")
	case "dotenv":
		env, err := godotenv.Unmarshal(string(data))
		if err != nil {
			t.Fatalf("godotenv: %v", err)
		}
		if env["DATABASE_URL"] != "postgres://app@db/app" {
			t.Errorf("dotenv: the file's own variable is lost: %q", env["DATABASE_URL"])
		}
		return env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
	case "export": // a POSIX shell sources it
		cmd := exec.Command("sh", "-c", `. "$1" && printf '%s\n%s\n' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY"`, "sh", path)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("sh . %s: %v", path, err)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		return lines[0], lines[len(lines)-1]
	case "envfile": // docker run --env-file: one VAR=value a line, no quoting, # comments
		env := map[string]string{}
		for _, l := range strings.Split(string(data), "\n") {
			l = strings.TrimLeft(l, " \t")
			if l == "" || strings.HasPrefix(l, "#") {
				continue
			}
			k, v, _ := strings.Cut(l, "=")
			env[k] = v
		}
		return env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
	case "tfvars": // HCL attributes, read tolerantly: name = "string"
		attr := regexp.MustCompile(`(?m)^\s*(\w+)\s*=\s*"([^"]*)"\s*$`)
		vars := map[string]string{}
		for _, m := range attr.FindAllStringSubmatch(string(data), -1) {
			if _, dup := vars[m[1]]; dup {
				t.Errorf("tfvars: %s defined twice (terraform refuses the file)", m[1])
			}
			vars[m[1]] = m[2]
		}
		if vars["region"] != "eu-west-1" {
			t.Errorf("tfvars: the file's own variable is lost")
		}
		return vars["aws_access_key"], vars["aws_secret_key"]
	case "k8s":
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var doc struct {
				Kind     string
				Metadata struct{ Name string }
				Data     map[string]string
			}
			if err := dec.Decode(&doc); err != nil {
				t.Fatalf("k8s: no Secret %s in the file: %v", name, err)
			}
			if doc.Kind == "Secret" && doc.Metadata.Name == name {
				d := func(k string) string {
					b, err := base64.StdEncoding.DecodeString(doc.Data[k])
					if err != nil {
						t.Fatalf("k8s: %s is not base64: %v", k, err)
					}
					return string(b)
				}
				return d("AWS_ACCESS_KEY_ID"), d("AWS_SECRET_ACCESS_KEY")
			}
		}
	case "json":
		var out struct {
			AccessKey struct{ UserName, AccessKeyId, Status, SecretAccessKey, CreateDate string }
		}
		if err := json.Unmarshal(data, &out); err != nil {
			t.Fatalf("json: %v", err)
		}
		if out.AccessKey.Status != "Active" || out.AccessKey.UserName == "" || out.AccessKey.CreateDate == "" {
			t.Errorf("json: not what 'aws iam create-access-key' prints: %+v", out.AccessKey.Status)
		}
		return out.AccessKey.AccessKeyId, out.AccessKey.SecretAccessKey
	case "csv":
		rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		if err != nil || len(rows) != 2 || rows[0][0] != "Access key ID" || rows[0][1] != "Secret access key" {
			t.Fatalf("csv: want the console's header and one row, got %d rows (%v)", len(rows), err)
		}
		return rows[1][0], rows[1][1]
	case "gha":
		var wf struct {
			Env  map[string]string
			Jobs map[string]any
		}
		if err := yaml.Unmarshal(data, &wf); err != nil || len(wf.Jobs) == 0 {
			t.Fatalf("gha: not a workflow: %v", err)
		}
		return wf.Env["AWS_ACCESS_KEY_ID"], wf.Env["AWS_SECRET_ACCESS_KEY"]
	}
	t.Fatalf("no reader for %s", format)
	return "", ""
}

// Each format is planted after what its file held, read back by the tool
// that reads it, rewritten in place with a second key (a rotation), and cut
// out again to the file's first bytes (or no file, where it made one).
func TestPlacementsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, format := range FormatNames {
		t.Run(format, func(t *testing.T) {
			path := filepath.Join(dir, format+".file")
			orig, had := before[format], before[format] != ""
			if had {
				if err := os.WriteFile(path, []byte(orig), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			p := Placement{Format: format, Path: path}
			if err := p.check("billing-export"); err != nil {
				t.Fatalf("check: %v", err)
			}
			for _, seed := range []string{"first", "second"} {
				key := fakeKey(seed)
				pl, err := p.plan(values{name: "billing-export", user: "svc-billing-export", date: "2026-12-03T10:00:00+00:00", key: key})
				if err != nil {
					t.Fatalf("plan: %v", err)
				}
				if strings.Contains(pl.p.Template, key.Secret.Reveal()) || strings.Contains(pl.p.Template, key.ID) {
					t.Fatalf("the template keeps the key")
				}
				if err := pl.write(); err != nil {
					t.Fatal(err)
				}
				p = pl.p
				data, _ := os.ReadFile(path)
				if !strings.HasPrefix(string(data), orig) {
					t.Fatalf("the file's own bytes changed")
				}
				if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
					t.Errorf("mode %v, want 0600", st.Mode().Perm())
				}
				id, sec := readBack(t, format, path, "billing-export")
				if id != key.ID || sec != key.Secret.Reveal() {
					t.Fatalf("%s key: read back %q (secret equal: %v)", seed, id, sec == key.Secret.Reveal())
				}
			}
			if err := p.check("billing-export"); err == nil && format != "k8s" {
				t.Errorf("a second canary in the same file must be refused")
			}
			there, err := p.remove()
			if err != nil || !there {
				t.Fatalf("remove: %v (found %v)", err, there)
			}
			data, err := os.ReadFile(path)
			switch {
			case !had && !os.IsNotExist(err):
				t.Errorf("the file keywarden made is still there")
			case had && string(data) != orig:
				t.Errorf("after remove the file is\n%q\nwant\n%q", data, orig)
			}
			if st, err := os.Stat(path); had && err == nil && st.Mode().Perm() != 0o644 {
				t.Errorf("after remove the mode is %v, want the file's own 0644 back", st.Mode().Perm())
			}
		})
	}
}

// A block changed by hand is not found, so nothing is cut.
func TestRemoveLeavesAChangedBlock(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".env")
	pl, err := Placement{Format: "dotenv", Path: path}.plan(values{name: "x", key: fakeKey("k")})
	if err != nil {
		t.Fatal(err)
	}
	if err := pl.write(); err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(pl.data), "AWS_SECRET_ACCESS_KEY=", "AWS_SECRET_ACCESS_KEY= ", 1)
	os.WriteFile(path, []byte(edited), 0o600)
	if there, err := pl.p.remove(); err != nil || there {
		t.Fatalf("remove of an edited block: found %v, %v", there, err)
	}
	if data, _ := os.ReadFile(path); string(data) != edited {
		t.Errorf("the edited file was changed")
	}
}

// Files of their own are refused where a file is already.
func TestWholeFormatsRefuseAnExistingFile(t *testing.T) {
	for _, f := range []string{"json", "csv", "gha"} {
		path := filepath.Join(t.TempDir(), "x")
		os.WriteFile(path, []byte("{}"), 0o600)
		if err := (Placement{Format: f, Path: path}).check("x"); err == nil || !strings.Contains(err.Error(), "the file exists") {
			t.Errorf("%s: %v", f, err)
		}
	}
	if _, err := ParsePlacement("yaml:x"); err == nil {
		t.Errorf("an unknown format must be refused")
	}
}
