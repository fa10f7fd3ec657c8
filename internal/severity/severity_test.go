package severity

import "testing"

func TestParseRoundTripsAndOrders(t *testing.T) {
	prev := Level(-1)
	for _, name := range []string{"info", "low", "medium", "high", "critical"} {
		l, err := Parse(name)
		if err != nil || l.String() != name || l <= prev {
			t.Errorf("Parse(%q) = %v, %v; want that level, above %v", name, l, err, prev)
		}
		prev = l
	}
	if l, err := Parse(" HIGH "); err != nil || l != High {
		t.Errorf("Parse is case- and space-insensitive: got %v, %v", l, err)
	}
	if _, err := Parse("severe"); err == nil {
		t.Error("Parse(severe) must fail")
	}
	var l Level
	if err := l.UnmarshalText([]byte("critical")); err != nil || l != Critical {
		t.Errorf("UnmarshalText = %v, %v", l, err)
	}
}
