package rulelang

import (
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// threshold reads {count | distinct: {field, count}, window, by}.
func (p parser) threshold(n *yaml.Node) (*Threshold, error) {
	if n.Kind != yaml.MappingNode {
		return nil, p.errf(n, "threshold: want a mapping")
	}
	t := &Threshold{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		var err error
		switch k.Value {
		case "count":
			t.Count, err = p.positive(v, "count")
		case "window":
			t.Window, err = p.window(v)
		case "by":
			if t.By, err = p.scalar(v, "by"); err == nil {
				if perr := checkPath(t.By); perr != nil {
					err = p.errf(v, "by %q: %v", t.By, perr)
				}
			}
		case "distinct":
			err = p.distinct(v, t)
		default:
			err = p.errf(k, "unknown key %q in threshold (want count, distinct, window, by)", k.Value)
		}
		if err != nil {
			return nil, err
		}
	}
	if t.Count == 0 {
		return nil, p.errf(n, "threshold: want count or distinct")
	}
	if t.Window == 0 {
		return nil, p.errf(n, "threshold: want a window (like 1h)")
	}
	return t, nil
}

func (p parser) distinct(n *yaml.Node, t *Threshold) error {
	if t.Count != 0 {
		return p.errf(n, "threshold: count and distinct are exclusive")
	}
	if n.Kind != yaml.MappingNode {
		return p.errf(n, "distinct: want {field, count}")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		var err error
		switch k.Value {
		case "field":
			if t.Distinct, err = p.scalar(v, "field"); err == nil {
				if perr := checkPath(t.Distinct); perr != nil {
					err = p.errf(v, "field %q: %v", t.Distinct, perr)
				}
			}
		case "count":
			t.Count, err = p.positive(v, "count")
		default:
			err = p.errf(k, "unknown key %q in distinct (want field, count)", k.Value)
		}
		if err != nil {
			return err
		}
	}
	if t.Distinct == "" || t.Count == 0 {
		return p.errf(n, "distinct: want both field and count")
	}
	return nil
}

// maxThreshold bounds the state one group keeps.
const maxThreshold = 100000

func (p parser) positive(n *yaml.Node, what string) (int, error) {
	s, err := p.scalar(n, what)
	if err != nil {
		return 0, err
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 1 || v > maxThreshold {
		return 0, p.errf(n, "%s: want a whole number from 1 to %d, got %q", what, maxThreshold, s)
	}
	return v, nil
}

// window parses Go durations plus whole days ("7d"), as rules speak in days.
func (p parser) window(n *yaml.Node) (time.Duration, error) {
	s, err := p.scalar(n, "window")
	if err != nil {
		return 0, err
	}
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var nd int
		if nd, err = strconv.Atoi(days); err == nil {
			d = time.Duration(nd) * 24 * time.Hour
		}
	} else {
		d, err = time.ParseDuration(s)
	}
	if err != nil || d <= 0 {
		return 0, p.errf(n, "window: want a positive duration like 15m, 1h or 7d, got %q", s)
	}
	return d, nil
}
