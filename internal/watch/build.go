package watch

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/keywarden/keywarden/internal/canary"
	"github.com/keywarden/keywarden/internal/detect"
	"github.com/keywarden/keywarden/internal/rulelang"
	"github.com/keywarden/keywarden/internal/severity"
)

// sesAlertPerHour is the built-in SES sending-volume threshold per key, for
// trails that log SES data events.
const sesAlertPerHour = 500

// Config is what a pipeline is built from.
type Config struct {
	// Store keeps the detectors' state (bursts, baselines) and dedup marks.
	Store detect.Store
	// Rules are files or directories of keywarden YAML and Sigma rules
	// (--rules, --sigma).
	Rules []string
	// Warn hears of the rules skipped (Sigma features not supported).
	Warn func(error)
	// Dedup is the dedup window; 0 means DefaultDedupWindow.
	Dedup time.Duration
	// Format, when set, prints alerts on SinkEnv.Stdout (FormatSink).
	Format string
	// Sinks are --sink specs (ParseSink), after the Format's sink.
	Sinks   []string
	SinkEnv SinkEnv
	// RateLimit caps each sink's alerts a minute; 0: no limit.
	RateLimit int
	// Now is the clock of dedup and rate limits; nil: time.Now.
	Now func() time.Time
	// Canaries are the registered canary keys (the state database, or the
	// Lambda's KEYWARDEN_CANARIES); CanarySeen records the canary events
	// alerted on, for `canary check` (nil: Store).
	Canaries   *canary.Registry
	CanarySeen detect.Store
}

// NewPipeline builds the detectors (built-in rules, bursts, baselines, user
// and Sigma rules), dedup and sinks. Its errors are the configuration's: a
// rule file, a sink spec.
func NewPipeline(c Config) (*Pipeline, error) {
	now := c.Now
	if now == nil {
		now = time.Now
	}
	store := c.Store
	stateful := []detect.Detector{detect.AccessDeniedBurst(store), detect.ReconBurst(store), detect.SecretsBurst(store),
		detect.SESVolume(store, sesAlertPerHour), &detect.Baseline{Store: store}}
	stateful = append(stateful, detect.Dispatch(detect.AttackBursts(store)...))
	if c.Canaries.Len() > 0 {
		seen := c.CanarySeen
		if seen == nil {
			seen = store
		}
		stateful = append([]detect.Detector{&detect.CanaryWatch{Canaries: c.Canaries, Seen: seen}}, stateful...)
	}
	known := map[string]bool{}
	for _, r := range Catalogue() {
		known[r.ID] = true
	}
	for _, path := range c.Rules {
		rules, err := rulelang.Load(path, c.Warn)
		if err != nil {
			return nil, err
		}
		for _, r := range rules {
			known[r.ID] = true
		}
		stateful = append(stateful, rulelang.NewDetector(rules, store))
	}
	dedup := NewDeduper(store, c.Dedup)
	dedup.Now = now
	p := &Pipeline{Detector: detect.NewEngine(stateful...), Filter: dedup, rules: known}
	add := func(s Sink, err error) error {
		if err != nil {
			return err
		}
		if c.RateLimit > 0 {
			s = RateLimit(s, c.RateLimit, now)
		}
		p.Sinks = append(p.Sinks, s)
		return nil
	}
	if c.Format != "" {
		if err := add(FormatSink(c.Format, c.SinkEnv.Stdout)); err != nil {
			return nil, err
		}
	}
	for _, spec := range c.Sinks {
		if err := add(ParseSink(spec, c.SinkEnv)); err != nil {
			p.Close() // the files of the sinks before it
			return nil, err
		}
	}
	return p, nil
}

// Catalogue is every built-in rule: the rules of single events, the
// canary watch, the baselines and the bursts (--list-rules).
func Catalogue() []detect.Rule {
	rules := append(detect.Rules(), detect.CanaryRule, detect.CanaryUnloggedRule)
	rules = append(rules, detect.BaselineRules()...)
	bursts := []*detect.Burst{detect.AccessDeniedBurst(nil), detect.ReconBurst(nil), detect.SecretsBurst(nil), detect.SESVolume(nil, sesAlertPerHour)}
	for _, b := range append(bursts, detect.AttackBursts(nil)...) {
		rules = append(rules, b.Rule)
	}
	return rules
}

// WriteCatalogue prints the built-in rules in format (Formats): a table,
// one JSON array, or one JSON object a line.
func WriteCatalogue(w io.Writer, format string) error {
	type rule struct {
		ID        string         `json:"rule"`
		Severity  severity.Level `json:"severity"`
		Technique string         `json:"technique"`
		Title     string         `json:"title"`
		Stratus   []string       `json:"stratus,omitempty"`
	}
	var rules []rule
	for _, r := range Catalogue() {
		rules = append(rules, rule{r.ID, r.Severity, r.Technique, r.Title, r.Stratus})
	}
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rules)
	case "jsonl":
		enc := json.NewEncoder(w)
		for _, r := range rules {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tSEVERITY\tTECHNIQUE\tTITLE\tSTRATUS RED TEAM")
	for _, r := range rules {
		stratus := strings.Join(r.Stratus, " ")
		if stratus == "" {
			stratus = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Severity, r.Technique, r.Title, stratus)
	}
	return tw.Flush()
}
