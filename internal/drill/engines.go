package drill

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/detect"
	"github.com/keywarden/keywarden/internal/scan/collect"
	"github.com/keywarden/keywarden/internal/watch"
)

// Watch is the Detector of watch's engine (its built-in rules, bursts and
// baselines) over one watch source; with Respond, watch's --respond hook
// too, on the drill key only.
type Watch struct {
	Source watch.Source
	Now    func() time.Time
	// Warn hears of what the source skipped.
	Warn func(error)
	// Respond are the rules of --respond RULE=contain, Contain what
	// contains (respond --apply), Out where the hook says it contained.
	Respond map[string]bool
	Contain watch.Contain
	Out     io.Writer
}

var _ Detector = Watch{}

// Check refuses a --respond rule no detector of watch raises, before a
// drill starts.
func (w Watch) Check() error {
	_, err := w.pipeline(&Drill{})
	return err
}

// pipeline is watch's pipeline, with the --respond hook containing d's key.
func (w Watch) pipeline(d *Drill) (*watch.Pipeline, error) {
	p, err := watch.NewPipeline(watch.Config{Store: &detect.MemStore{}, Now: w.Now})
	if err != nil || len(w.Respond) == 0 {
		return p, err
	}
	contain := func(ctx context.Context, keyID string) (string, error) {
		inc, err := w.Contain(ctx, keyID)
		if err == nil {
			d.Contained, d.Incident = w.Now().UTC(), inc
		}
		return inc, err
	}
	if err := p.ContainOn(w.Respond, contain, w.Out); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// Alerts reads the source from the drill's start and returns the alerts
// the drill's key and session raise. Each poll judges afresh (a store of
// its own), so an alert seen at the last poll is seen again. With
// Respond, an alert of one of its rules on the drill key (never another
// key: a drill changes nothing of the team's) has the key contained, once.
func (w Watch) Alerts(ctx context.Context, d *Drill) ([]detect.Alert, error) {
	p, err := w.pipeline(d)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	hook := p.OnAlert
	var got []detect.Alert
	p.OnAlert = func(ctx context.Context, a detect.Alert) error {
		if !d.owns(a) {
			return nil
		}
		got = append(got, a)
		if hook != nil && a.AccessKeyID == d.KeyID && d.Contained.IsZero() {
			if err := hook(ctx, a); err != nil {
				d.ContainError = err.Error()
			}
		}
		return nil
	}
	opts := cloudtrail.Options{Since: d.Started.Add(-5 * time.Minute), Warn: w.Warn}
	if _, err := p.Judge(ctx, func(ctx context.Context, sink cloudtrail.Sink) error { return w.Source.Read(ctx, opts, sink) }); err != nil {
		return nil, fmt.Errorf("watch %s: %w", d.Source, err)
	}
	return got, nil
}

// ScanHistory is the Scanner of keywarden scan: every object of the
// repository's history.
func ScanHistory(ctx context.Context, repo string) (map[string]string, error) {
	return scanned(ctx, collect.Options{Paths: []string{repo}})
}

// ScanSite is the Scanner of keywarden scan --url: a site's leak files and
// its exposed .git/, rebuilt over HTTP.
func ScanSite(ctx context.Context, url string) (map[string]string, error) {
	return scanned(ctx, collect.Options{URLs: []string{url}})
}

// scanned is where each key opts' scan found was found first.
func scanned(ctx context.Context, opts collect.Options) (map[string]string, error) {
	res, err := collect.Findings(ctx, opts)
	if err != nil {
		return nil, err
	}
	found := map[string]string{}
	for _, f := range res.Findings {
		where := f.Path
		if f.Commit != "" {
			where = fmt.Sprintf("%s at commit %s (in HEAD: %t)", f.Path, short(f.Commit), f.InHead)
		}
		if _, ok := found[f.KeyID]; !ok && f.KeyID != "" {
			found[f.KeyID] = where
		}
	}
	return found, nil
}

// AlertLog is the Detector of the team's own watch: the alerts it writes
// to a jsonl sink ('keywarden watch --follow --sink jsonl:FILE', one alert
// JSON a line, docs/formats.md), read whole at each poll. An alert is the
// drill's when it names the drill key or its session. A file not there yet
// holds no alert; a line that does not decode (a write in progress) is
// skipped, and said to Warn.
type AlertLog struct {
	Path string
	Warn func(error)
}

var _ Detector = AlertLog{}

// Alerts are the drill's alerts in the file so far.
func (l AlertLog) Alerts(ctx context.Context, d *Drill) ([]detect.Alert, error) {
	data, err := os.ReadFile(l.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("alerts %s: %w", l.Path, err)
	}
	var got []detect.Alert
	for i, line := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		a, ok, err := d.alert(line)
		if err != nil {
			if l.Warn != nil {
				l.Warn(fmt.Errorf("alerts %s: line %d skipped: not an alert of watch's jsonl sink", l.Path, i+1))
			}
			continue
		}
		if ok {
			got = append(got, a)
		}
	}
	return got, ctx.Err()
}
