// Command gen rewrites netranges' embedded ranges.tsv.gz from what the
// providers publish: AWS's ip-ranges.json, GitHub's meta API (its "actions"
// and "actions_macos" categories: the hosted runners) and Google Cloud's
// cloud.json (GitLab.com's hosted runners run on Google Cloud). By default
// it downloads them; -aws, -github and -gcp read a local copy in the same
// format instead (-note says where such a copy came from, -published when it was
// published where the file does not say).
//
//	go run ./internal/retire/netranges/gen -o internal/retire/netranges/ranges.tsv.gz
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/keywarden/keywarden/internal/retire/netranges"
)

const (
	awsURL    = "https://ip-ranges.amazonaws.com/ip-ranges.json"
	githubURL = "https://api.github.com/meta"
	gcpURL    = "https://www.gstatic.com/ipranges/cloud.json"
)

func main() {
	out := flag.String("o", "ranges.tsv.gz", "file to write")
	awsFile := flag.String("aws", "", "read AWS's ip-ranges.json from FILE instead of "+awsURL)
	githubFile := flag.String("github", "", "read GitHub's meta JSON from FILE instead of "+githubURL)
	gcpFile := flag.String("gcp", "", "read Google Cloud's cloud.json from FILE instead of "+gcpURL)
	var notes, dates multi
	flag.Var(&notes, "note", "SET=TEXT: say where a local copy came from (repeatable)")
	flag.Var(&dates, "published", "SET=DATE: the date a local copy was published, where its file has none (GitHub's meta)")
	flag.Parse()
	if err := run(*out, map[string]string{netranges.AWS: *awsFile, netranges.GitHub: *githubFile, netranges.GCP: *gcpFile}, notes.m, dates.m); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(2)
	}
}

type multi struct{ m map[string]string }

func (m *multi) String() string { return "" }
func (m *multi) Set(v string) error {
	set, text, ok := strings.Cut(v, "=")
	if !ok {
		return fmt.Errorf("-note %q: want SET=TEXT", v)
	}
	if m.m == nil {
		m.m = map[string]string{}
	}
	m.m[set] = text
	return nil
}

func run(out string, files, notes, dates map[string]string) error {
	type parser func([]byte) (netranges.Source, []netranges.Range, error)
	var sources []netranges.Source
	var ranges []netranges.Range
	for _, p := range []struct {
		set, url string
		parse    parser
	}{{netranges.AWS, awsURL, parseAWS}, {netranges.GitHub, githubURL, parseGitHub}, {netranges.GCP, gcpURL, parseGCP}} {
		b, err := load(p.url, files[p.set])
		if err != nil {
			return err
		}
		src, rs, err := p.parse(b)
		if err != nil {
			return fmt.Errorf("%s: %w", p.url, err)
		}
		src.Set, src.URL, src.Note = p.set, p.url, notes[p.set]
		if d := dates[p.set]; d != "" {
			src.Published = d
		}
		sources = append(sources, src)
		ranges = append(ranges, rs...)
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	zw, err := gzip.NewWriterLevel(f, gzip.BestCompression)
	if err != nil {
		return err
	}
	if err := netranges.Write(zw, sources, ranges); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return f.Close()
}

func load(url, file string) ([]byte, error) {
	if file != "" {
		return os.ReadFile(file)
	}
	c := &http.Client{Timeout: time.Minute}
	resp, err := c.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return io.ReadAll(resp.Body)
}

// parseAWS keeps, per prefix, its most specific service: a prefix listed
// as AMAZON and as EC2 is EC2's (AMAZON is the whole of Amazon's space).
func parseAWS(b []byte) (netranges.Source, []netranges.Range, error) {
	var doc struct {
		SyncToken  string `json:"syncToken"`
		CreateDate string `json:"createDate"`
		V4         []struct {
			Prefix  string `json:"ip_prefix"`
			Region  string `json:"region"`
			Service string `json:"service"`
		} `json:"prefixes"`
		V6 []struct {
			Prefix  string `json:"ipv6_prefix"`
			Region  string `json:"region"`
			Service string `json:"service"`
		} `json:"ipv6_prefixes"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return netranges.Source{}, nil, err
	}
	type entry struct{ prefix, region, service string }
	var all []entry
	for _, p := range doc.V4 {
		all = append(all, entry{p.Prefix, p.Region, p.Service})
	}
	for _, p := range doc.V6 {
		all = append(all, entry{p.Prefix, p.Region, p.Service})
	}
	best := map[netip.Prefix]netranges.Range{}
	var order []netip.Prefix
	for _, e := range all {
		p, err := netip.ParsePrefix(e.prefix)
		if err != nil {
			return netranges.Source{}, nil, err
		}
		p = p.Masked()
		cur, ok := best[p]
		if !ok {
			order = append(order, p)
		}
		if !ok || cur.Service == "AMAZON" && e.service != "AMAZON" || cur.Service != "AMAZON" && e.service != "AMAZON" && e.service < cur.Service {
			best[p] = netranges.Range{Prefix: p, Set: netranges.AWS, Service: e.service, Region: e.region}
		}
	}
	ranges := make([]netranges.Range, 0, len(order))
	for _, p := range order {
		ranges = append(ranges, best[p])
	}
	if len(ranges) == 0 {
		return netranges.Source{}, nil, fmt.Errorf("no prefix")
	}
	return netranges.Source{Published: published(doc.CreateDate, doc.SyncToken)}, ranges, nil
}

// parseGitHub keeps the hosted runners' categories of GitHub's meta.
func parseGitHub(b []byte) (netranges.Source, []netranges.Range, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(b, &doc); err != nil {
		return netranges.Source{}, nil, err
	}
	var ranges []netranges.Range
	seen := map[netip.Prefix]bool{}
	for _, cat := range []string{"actions", "actions_macos"} {
		var list []string
		if raw, ok := doc[cat]; ok {
			if err := json.Unmarshal(raw, &list); err != nil {
				return netranges.Source{}, nil, fmt.Errorf("%s: %w", cat, err)
			}
		}
		for _, s := range list {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return netranges.Source{}, nil, err
			}
			if p = p.Masked(); !seen[p] {
				seen[p] = true
				ranges = append(ranges, netranges.Range{Prefix: p, Set: netranges.GitHub, Service: cat})
			}
		}
	}
	if len(ranges) == 0 {
		return netranges.Source{}, nil, fmt.Errorf("no actions prefix")
	}
	// The meta API carries no date: the day it was read is the best there is.
	return netranges.Source{Published: "read " + time.Now().UTC().Format("2006-01-02")}, ranges, nil
}

// parseGCP reads cloud.json: each prefix with its scope (region).
func parseGCP(b []byte) (netranges.Source, []netranges.Range, error) {
	var doc struct {
		SyncToken    string `json:"syncToken"`
		CreationTime string `json:"creationTime"`
		Prefixes     []struct {
			V4    string `json:"ipv4Prefix"`
			V6    string `json:"ipv6Prefix"`
			Scope string `json:"scope"`
		} `json:"prefixes"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return netranges.Source{}, nil, err
	}
	var ranges []netranges.Range
	for _, e := range doc.Prefixes {
		s := e.V4 + e.V6
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netranges.Source{}, nil, err
		}
		ranges = append(ranges, netranges.Range{Prefix: p.Masked(), Set: netranges.GCP, Region: e.Scope})
	}
	if len(ranges) == 0 {
		return netranges.Source{}, nil, fmt.Errorf("no prefix")
	}
	return netranges.Source{Published: published(doc.CreationTime, doc.SyncToken)}, ranges, nil
}

func published(date, token string) string {
	if token == "" {
		return date
	}
	return date + " (syncToken " + token + ")"
}
