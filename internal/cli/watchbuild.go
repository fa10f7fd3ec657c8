package cli

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/keywarden/keywarden/internal/detect"
	"github.com/keywarden/keywarden/internal/rulelang"
	"github.com/keywarden/keywarden/internal/state"
	"github.com/keywarden/keywarden/internal/watch"
)

// sesAlertPerHour is the built-in SES sending-volume threshold per key, for
// trails that log SES data events.
const sesAlertPerHour = 500

// buildPipeline assembles the detectors (built-in rules, bursts, baselines,
// user and Sigma rules), dedup, sinks and the --respond hook.
func buildPipeline(ctx context.Context, deps Deps, opts watchOptions, cfg aws.Config, store detect.Store, db *state.DB) (*watch.Pipeline, error) {
	stateful := []detect.Detector{detect.AccessDeniedBurst(store), detect.ReconBurst(store),
		detect.SESVolume(store, sesAlertPerHour), &detect.Baseline{Store: store}}
	warn := newWarner(deps.Stderr)
	for _, path := range append(append([]string{}, opts.rules...), opts.sigma...) {
		rules, err := rulelang.Load(path, warn.add)
		if err != nil {
			return nil, usageErr(err)
		}
		stateful = append(stateful, rulelang.NewDetector(rules, store))
	}
	warn.flush()
	p := &watch.Pipeline{Detector: detect.NewEngine(stateful...), Filter: watch.NewDeduper(store, opts.dedup)}
	specs := opts.sinks
	if len(specs) == 0 {
		specs = []string{"text"}
	}
	for _, spec := range specs {
		s, err := watch.ParseSink(spec, watch.SinkEnv{Stdout: deps.Stdout, AWS: cfg})
		if err != nil {
			return nil, usageErr(err)
		}
		if opts.rateLimit > 0 {
			s = watch.RateLimit(s, opts.rateLimit, time.Now)
		}
		p.Sinks = append(p.Sinks, s)
	}
	hook, err := containOnAlert(deps, opts, cfg, db)
	if err != nil {
		return nil, err
	}
	p.OnAlert = hook
	return p, nil
}

// listWatchRules prints the built-in catalogue.
func listWatchRules(deps Deps) error {
	tw := tabwriter.NewWriter(deps.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tSEVERITY\tTECHNIQUE\tTITLE")
	rules := append(detect.Rules(), detect.BaselineRules()...)
	for _, b := range []*detect.Burst{detect.AccessDeniedBurst(nil), detect.ReconBurst(nil), detect.SESVolume(nil, sesAlertPerHour)} {
		rules = append(rules, b.Rule)
	}
	for _, r := range rules {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.ID, r.Severity, r.Technique, r.Title)
	}
	return tw.Flush()
}
