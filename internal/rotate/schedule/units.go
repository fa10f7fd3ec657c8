package schedule

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// The scheduled job's names are its Verb's: the systemd units and the tag
// that marks keywarden's crontab line, so a re-install replaces it instead
// of adding one.
const (
	// randomDelay spreads many machines' runs over a quarter hour, so a fleet
	// does not call IAM at the same second.
	randomDelay = "15min"
)

// TimeOfDay is when the job runs, local time. As a flag value (--at) it
// reads H:MM or HH:MM.
type TimeOfDay struct{ Hour, Minute int }

func (t TimeOfDay) String() string { return fmt.Sprintf("%02d:%02d", t.Hour, t.Minute) }

// Set reads s with ParseAt.
func (t *TimeOfDay) Set(s string) error {
	at, err := ParseAt(s)
	if err == nil {
		*t = at
	}
	return err
}

// ParseAt reads a time of day: H:MM or HH:MM, 00:00 to 23:59.
func ParseAt(s string) (TimeOfDay, error) {
	h, m, ok := strings.Cut(s, ":")
	hour, okH := smallNumber(h, 1, 2)
	minute, okM := smallNumber(m, 2, 2)
	if !ok || !okH || !okM || hour > 23 || minute > 59 {
		return TimeOfDay{}, errors.New("want a time of day HH:MM, 00:00 to 23:59")
	}
	return TimeOfDay{hour, minute}, nil
}

// smallNumber reads minLen to maxLen ASCII digits.
func smallNumber(s string, minLen, maxLen int) (int, bool) {
	if len(s) < minLen || len(s) > maxLen {
		return 0, false
	}
	n := 0
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, false
		}
		n = n*10 + int(r-'0')
	}
	return n, true
}

// systemdService is the user service the timer starts: one run of
// `keywarden VERB ARGS`, its output going to the journal.
func systemdService(v Verb, exe string, args []string) string {
	words := []string{systemdQuote(exe)}
	for _, a := range append(slices.Clip(v.Words), args...) {
		words = append(words, systemdQuote(a))
	}
	return `# Written by 'keywarden ` + v.Name + ` schedule'; running it again with --install rewrites this file.
[Unit]
Description=keywarden: ` + v.What + `

[Service]
Type=oneshot
ExecStart=` + strings.Join(words, " ") + "\n"
}

// systemdTimer starts the service daily at at. Persistent=true runs a missed
// run (a laptop asleep at that time) as soon as the machine wakes.
func systemdTimer(v Verb, at TimeOfDay) string {
	return fmt.Sprintf(`# Written by 'keywarden %s schedule'; running it again with --install rewrites this file.
[Unit]
Description=keywarden: %s daily at %s

[Timer]
OnCalendar=*-*-* %s:00
RandomizedDelaySec=%s
Persistent=true

[Install]
WantedBy=timers.target
`, v.Name, v.What, at, at, randomDelay)
}

// systemdQuote writes one ExecStart word. systemd splits the line on
// whitespace, honours double quotes with C escapes, and expands %specifiers
// and $VARIABLES even inside quotes, so % and $ are doubled everywhere.
func systemdQuote(s string) string {
	s = strings.NewReplacer("%", "%%", "$", "$$").Replace(s)
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool { return !safeWordRune(r) }) {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < ' ' || c == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// safeWordRune is a character no shell or systemd treats specially.
func safeWordRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_@%+=:,./-", r)
}

// cronLine is keywarden's crontab line: daily at at, output appended to logFile.
func cronLine(v Verb, at TimeOfDay, exe string, args []string, logFile string) (string, error) {
	words := []string{cronQuote(exe)}
	for _, w := range v.Words {
		words = append(words, cronQuote(w))
	}
	for _, a := range append([]string{exe, logFile}, args...) {
		if strings.ContainsAny(a, "\n\r") {
			return "", fmt.Errorf("argument %q has a line break, which a crontab line cannot hold", a)
		}
	}
	for _, a := range args {
		words = append(words, cronQuote(a))
	}
	return fmt.Sprintf("%d %d * * * %s >>%s 2>&1 %s", at.Minute, at.Hour, strings.Join(words, " "), cronQuote(logFile), v.tag()), nil
}

// cronQuote quotes s for sh, then for cron, which turns an unescaped % into a
// line break (and what follows into the command's stdin). cron drops the
// backslash of \% only, so each % is written \% outside the shell quotes,
// between quoted pieces that never end in a backslash.
func cronQuote(s string) string {
	if s == "" {
		return "''"
	}
	pieces := strings.Split(s, "%")
	for i, p := range pieces {
		if p != "" {
			pieces[i] = shQuote(p)
		}
	}
	return strings.Join(pieces, `\%`)
}

// shQuote single-quotes s for sh unless every character is safe bare.
func shQuote(s string) string {
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool { return !safeWordRune(r) || r == '%' }) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// replaceCronLine returns crontab with v's tagged line set to line:
// the first tagged line is replaced where it stands, any others dropped, and
// with none the line is appended. Every other line is kept byte for byte.
func replaceCronLine(v Verb, crontab, line string) string {
	var b strings.Builder
	placed, open := false, false // open: the last line written has no newline
	for rest := crontab; rest != ""; {
		cur, tail, found := strings.Cut(rest, "\n")
		rest = tail
		if isKeywardenLine(v, cur) {
			if !placed {
				b.WriteString(line + "\n")
				placed = true
			}
			continue
		}
		b.WriteString(cur)
		if open = !found; found {
			b.WriteByte('\n')
		}
	}
	if !placed {
		if open {
			b.WriteByte('\n') // else our line would join the last one
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

func isKeywardenLine(v Verb, l string) bool {
	return strings.HasSuffix(strings.TrimRight(l, " \t\r"), " "+v.tag())
}
