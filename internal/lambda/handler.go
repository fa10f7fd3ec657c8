// Package lambda runs keywarden watch as an AWS Lambda function: it takes
// S3 notifications of new CloudTrail log objects (direct, or wrapped in SNS
// or SQS, or as EventBridge "Object Created" events) and EventBridge
// CloudTrail events, and hands their records to the watch pipeline, which
// judges them and commits what its detectors learned. State (what was
// already processed) lives in a detect.Store, DynamoDB in AWS.
package lambda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/detect"
	"github.com/keywarden/keywarden/internal/watch"
)

// Store namespaces of the handler's idempotency markers. S3 notifications
// and EventBridge deliver at least once: a marker, written after an object
// or event has been processed, makes the next delivery a no-op.
const (
	ObjectsNamespace = "lambda/objects"
	EventsNamespace  = "lambda/events"
)

// MarkerKeep is how long a marker is kept: a notification can wait in SQS
// for up to 14 days (its longest retention) before it is delivered again.
const MarkerKeep = 14 * 24 * time.Hour

type handler struct {
	p        *watch.Pipeline
	objects  cloudtrail.ObjectStore
	store    detect.Store
	canaries *watch.CanaryPoller // nil: no canaries configured
	now      func() time.Time
}

// Handler returns the Lambda handler: it parses the payload, reads every
// new CloudTrail log object it announces (digests and other files are
// skipped), decodes EventBridge CloudTrail events, and has p judge the
// events of each object, and of the EventBridge batch, in one pass. Objects
// and events already processed (a marker in store) are skipped. Errors
// reading S3, the store or from p are returned, so Lambda retries; payloads
// of no known shape are logged and dropped, since a retry would fail the
// same way.
func Handler(p *watch.Pipeline, objects cloudtrail.ObjectStore, store detect.Store) func(ctx context.Context, raw json.RawMessage) error {
	return CanaryHandler(p, objects, store, nil)
}

// CanaryHandler is Handler that also runs the canaries' unlogged-call
// check on each tick of the schedule rule (an EventBridge "Scheduled
// Event"); with canaries nil a tick is logged and dropped.
func CanaryHandler(p *watch.Pipeline, objects cloudtrail.ObjectStore, store detect.Store, canaries *watch.CanaryPoller) func(ctx context.Context, raw json.RawMessage) error {
	h := &handler{p: p, objects: objects, store: store, canaries: canaries, now: time.Now}
	return h.handle
}

func (h *handler) handle(ctx context.Context, raw json.RawMessage) error {
	w, err := parse(raw)
	if errors.Is(err, ErrUnrecognized) {
		slog.Warn("keywarden lambda: payload dropped", "err", err, "bytes", len(raw))
		return nil
	}
	if err != nil {
		return err
	}
	for _, obj := range w.Objects {
		if err := h.object(ctx, obj); err != nil {
			return err
		}
	}
	if len(w.Records) > 0 {
		if err := h.records(ctx, w.Records); err != nil {
			return err
		}
	}
	if w.Scheduled {
		return h.check(ctx)
	}
	return nil
}

// check runs the canary check of a schedule tick. Its alerts go through
// the pipeline; a canary that could not be read is logged, and read again
// on the next tick.
func (h *handler) check(ctx context.Context) error {
	if h.canaries == nil {
		slog.Info("keywarden lambda: scheduled check, but no canaries configured (" + EnvCanaries + ")")
		return nil
	}
	c := *h.canaries
	c.Warn = func(err error) { slog.Warn("keywarden lambda: canary not checked", "err", err) }
	if err := c.Poll(ctx, h.p.Raise); err != nil {
		return fmt.Errorf("canary check: %w", err)
	}
	return nil
}

// isLogObject reports whether key is a CloudTrail log file worth reading:
// not a digest (a signature over other files), not a folder marker.
func isLogObject(key string) bool {
	return !strings.HasSuffix(key, "/") && !strings.Contains(key, "CloudTrail-Digest") && cloudtrail.IsLogName(path.Base(key))
}

// object reads one announced log object into the processor, once.
func (h *handler) object(ctx context.Context, obj objectRef) error {
	name := "s3://" + obj.Bucket + "/" + obj.Key
	if !isLogObject(obj.Key) {
		slog.Debug("keywarden lambda: not a cloudtrail log file", "object", name)
		return nil
	}
	marker := obj.Bucket + "/" + obj.Key
	if _, done, err := h.store.Get(ctx, ObjectsNamespace, marker); err != nil {
		return fmt.Errorf("check %s: %w", name, err)
	} else if done {
		slog.Info("keywarden lambda: already processed", "object", name)
		return nil
	}
	body, err := h.objects.Get(ctx, obj.Bucket, obj.Key)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			// Deleted before we got to it (lifecycle, or a replay of an old
			// notification): nothing a retry could read.
			slog.Warn("keywarden lambda: object gone", "object", name)
			return nil
		}
		return fmt.Errorf("get %s: %w", name, err)
	}
	defer body.Close()
	opts := cloudtrail.Options{Warn: func(err error) { slog.Warn("keywarden lambda: record skipped", "err", err) }}
	n, err := h.p.Judge(ctx, func(ctx context.Context, sink cloudtrail.Sink) error {
		return cloudtrail.ReadReader(ctx, body, name, opts, sink)
	})
	if err != nil {
		return fmt.Errorf("process %s: %w", name, err)
	}
	if err := h.store.Put(ctx, ObjectsNamespace, marker, h.markerValue(n)); err != nil {
		return fmt.Errorf("mark %s processed: %w", name, err)
	}
	slog.Info("keywarden lambda: processed", "object", name, "events", n)
	return nil
}

// markerValue records when and how much, for whoever reads the table.
func (h *handler) markerValue(events int) []byte {
	v, _ := json.Marshal(struct {
		At     time.Time `json:"at"`
		Events int       `json:"events"`
	}{h.now().UTC(), events})
	return v
}

// records decodes EventBridge-delivered records and processes the ones not
// seen before, marking them after.
func (h *handler) records(ctx context.Context, raws []json.RawMessage) error {
	var fresh []cloudtrail.Event
	seen := map[string]bool{}
	for i, raw := range raws {
		ev, err := cloudtrail.Decode(raw)
		if err != nil {
			slog.Warn("keywarden lambda: record skipped", "index", i, "err", err)
			continue
		}
		if ev.EventID != "" {
			if seen[ev.EventID] {
				continue
			}
			seen[ev.EventID] = true
			_, done, err := h.store.Get(ctx, EventsNamespace, ev.EventID)
			if err != nil {
				return fmt.Errorf("check event %s: %w", ev.EventID, err)
			}
			if done {
				continue
			}
		}
		fresh = append(fresh, ev)
	}
	if len(fresh) == 0 {
		return nil
	}
	_, err := h.p.Judge(ctx, func(_ context.Context, sink cloudtrail.Sink) error {
		for _, ev := range fresh {
			if err := sink(ev); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("process %d events: %w", len(fresh), err)
	}
	for _, ev := range fresh {
		if ev.EventID == "" {
			continue
		}
		if err := h.store.Put(ctx, EventsNamespace, ev.EventID, h.markerValue(1)); err != nil {
			return fmt.Errorf("mark event %s processed: %w", ev.EventID, err)
		}
	}
	return nil
}
