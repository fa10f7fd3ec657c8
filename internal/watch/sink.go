package watch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"

	"github.com/keywarden/keywarden/internal/clock"
	"github.com/keywarden/keywarden/internal/detect"
)

// Sink delivers alerts somewhere.
//
// Send is all-or-nothing from the caller's point of view: nil means every
// alert was delivered; an error means the caller must keep the whole batch
// and pass it to Send again later. Delivery is therefore at-least-once:
// sinks that deliver in several requests (Slack chunks, SNS messages)
// remember what a failed Send already delivered and skip it on the retry,
// but a restart between the two may repeat some alerts. Never lose, rather
// repeat.
type Sink interface {
	Send(ctx context.Context, alerts []detect.Alert) error
	Close() error
}

// SinkEnv is what sinks need from the outside world. Zero fields get
// defaults: os.Stdout, http.DefaultClient's transport, os.Getenv, a real
// sleep; a nil SNS refuses sns: sinks.
type SinkEnv struct {
	Stdout io.Writer
	// SNS makes the publisher of an sns:TOPIC_ARN sink (watchaws.SNSPublisher).
	SNS    func(topicARN string) Publisher
	HTTP   *http.Client
	Getenv func(string) string
	// Sleep waits between webhook retries; tests pass a fake clock.
	Sleep func(ctx context.Context, d time.Duration) error
}

// ErrBadSink marks a sink spec that cannot be used; callers map it to a
// usage error.
var ErrBadSink = errors.New("bad sink")

// ParseSink builds a sink from a --sink spec: text, jsonl, jsonl:PATH,
// webhook:URL, slack:URL or sns:TOPIC_ARN.
func ParseSink(spec string, env SinkEnv) (Sink, error) {
	env = env.withDefaults()
	kind, arg, _ := strings.Cut(spec, ":")
	switch kind {
	case "text":
		if arg != "" {
			return nil, fmt.Errorf("%w %q: text writes to stdout and takes no argument", ErrBadSink, spec)
		}
		return &textSink{w: env.Stdout}, nil
	case "jsonl":
		if arg == "" {
			return &jsonlSink{w: env.Stdout}, nil
		}
		f, err := os.OpenFile(arg, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("open jsonl sink: %w", err)
		}
		return &jsonlSink{w: f, file: f}, nil
	case "webhook":
		return newWebhookSink(arg, env)
	case "slack":
		return newSlackSink(arg, env)
	case "sns":
		return newSNSSink(arg, env)
	}
	return nil, fmt.Errorf("%w %q: want text, jsonl[:PATH], webhook:URL, slack:URL or sns:TOPIC_ARN", ErrBadSink, redactSpec(spec))
}

func (env SinkEnv) withDefaults() SinkEnv {
	if env.Stdout == nil {
		env.Stdout = os.Stdout
	}
	if env.HTTP == nil {
		env.HTTP = &http.Client{}
	}
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if env.Sleep == nil {
		env.Sleep = clock.Sleep
	}
	return env
}

// redactSpec keeps only the kind of an unknown spec: it may be a webhook
// URL whose path is a credential.
func redactSpec(spec string) string {
	kind, _, found := strings.Cut(spec, ":")
	if found {
		return kind + ":…"
	}
	return kind
}

// textSink writes one line per alert for people:
// time severity rule key principal title.
type textSink struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *textSink) Send(ctx context.Context, alerts []detect.Alert) error {
	var b bytes.Buffer
	for _, a := range alerts {
		fmt.Fprintf(&b, "%s %s %s %s %s %s\n", alertTime(a), a.Severity, field(a.Rule),
			field(a.AccessKeyID), field(a.Principal), lastField(a.Title))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write alerts: %w", err)
	}
	return nil
}

func (s *textSink) Close() error { return nil }

func alertTime(a detect.Alert) string {
	if a.EventTime.IsZero() {
		return "-"
	}
	return a.EventTime.UTC().Format(time.RFC3339)
}

// field makes an event value safe for one terminal line: CloudTrail fields
// such as the user agent are attacker-controlled and may carry newlines or
// escape sequences.
func field(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return '_'
		}
		return r
	}, s)
	if s == "" {
		return "-"
	}
	return truncate(s, 200)
}

// lastField is field for the line's last column: spaces cannot shift a
// column there, so they stay; control characters still cannot break the line.
func lastField(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '_'
		}
		return r
	}, s)
	if s == "" {
		return "-"
	}
	return truncate(s, 200)
}

// truncate cuts s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// jsonlSink writes the alert JSON (docs/formats.md), one per line, in one write per
// batch so a reader never sees half a batch from a successful Send.
type jsonlSink struct {
	mu   sync.Mutex
	w    io.Writer
	file *os.File // set when the sink owns a file
}

func (s *jsonlSink) Send(ctx context.Context, alerts []detect.Alert) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for _, a := range alerts {
		if err := enc.Encode(a); err != nil {
			return fmt.Errorf("encode alert %s: %w", a.Rule, err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write alerts: %w", err)
	}
	if s.file != nil {
		// The caller forgets alerts once Send succeeds: make them durable.
		// A device or pipe (/dev/null, a fifo) cannot be synced, and has
		// nothing to lose by it.
		if err := s.file.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
			return fmt.Errorf("sync %s: %w", s.file.Name(), err)
		}
	}
	return nil
}

func (s *jsonlSink) Close() error {
	if s.file == nil {
		return nil
	}
	if err := s.file.Close(); err != nil {
		return fmt.Errorf("close %s: %w", s.file.Name(), err)
	}
	return nil
}

// Formats are the names --format takes: how alerts are printed on
// standard output.
var Formats = []string{"text", "json", "jsonl"}

// FormatSink prints alerts on w in format: text and jsonl as the sinks of
// those names do, json as one JSON array of every alert sent, which Close
// ends (an array cannot be read before it ends: jsonl is the streaming form).
func FormatSink(format string, w io.Writer) (Sink, error) {
	switch format {
	case "text", "jsonl":
		return ParseSink(format, SinkEnv{Stdout: w})
	case "json":
		if w == nil {
			w = os.Stdout
		}
		return &jsonArraySink{w: w}, nil
	}
	return nil, fmt.Errorf("%w: format %q: want one of %s", ErrBadSink, format, strings.Join(Formats, ", "))
}

// PrintsToStdout reports whether a --sink spec prints on standard output.
func PrintsToStdout(spec string) bool { return spec == "text" || spec == "jsonl" }

// StdoutFormat is how alerts are printed on standard output: in format,
// unless it was not given and sinks say where alerts go instead (""). It
// refuses two printers on stdout, and json with follow: json is one array
// written when the run ends, and a followed run does not end.
func StdoutFormat(format string, given bool, sinks []string, follow bool) (string, error) {
	switch {
	case !given && len(sinks) > 0:
		return "", nil
	case slices.ContainsFunc(sinks, PrintsToStdout):
		return "", errors.New("--format and --sink text or jsonl both print alerts on stdout: give one")
	case format == "json" && follow:
		return "", errors.New("--format json writes one array when the run ends, and --follow does not end: use --format jsonl")
	}
	return format, nil
}

// jsonArraySink writes the alert JSON of jsonlSink as the elements of one
// indented array, opened by the first alert and closed by Close: "[]" when
// none was sent.
type jsonArraySink struct {
	mu sync.Mutex
	w  io.Writer
	n  int // alerts written
}

func (s *jsonArraySink) Send(ctx context.Context, alerts []detect.Alert) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b bytes.Buffer
	for i, a := range alerts {
		elem, err := json.MarshalIndent(a, "  ", "  ")
		if err != nil {
			return fmt.Errorf("encode alert %s: %w", a.Rule, err)
		}
		if s.n+i == 0 {
			b.WriteString("[\n  ")
		} else {
			b.WriteString(",\n  ")
		}
		b.Write(elem)
	}
	if _, err := s.w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write alerts: %w", err)
	}
	s.n += len(alerts)
	return nil
}

func (s *jsonArraySink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	end := "\n]\n"
	if s.n == 0 {
		end = "[]\n"
	}
	if _, err := io.WriteString(s.w, end); err != nil {
		return fmt.Errorf("write alerts: %w", err)
	}
	return nil
}
