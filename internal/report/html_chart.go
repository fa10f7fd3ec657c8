package report

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/english"
)

// ageBucket is one bar group of the key-age chart. The buckets are fixed:
// the report does not know the --max-key-age the audit judged by, and fixed
// buckets keep reports comparable from run to run.
type ageBucket struct {
	Label    string
	ID       string // stable machine name, for data attributes and tests
	min, max int    // inclusive day range; unknown ages have their own bucket
	unknown  bool
}

var ageBuckets = []ageBucket{
	{Label: "0–30 days", ID: "0-30", min: 0, max: 30},
	{Label: "31–90 days", ID: "31-90", min: 31, max: 90},
	{Label: "91–180 days", ID: "91-180", min: 91, max: 180},
	{Label: "181–365 days", ID: "181-365", min: 181, max: 365},
	{Label: "> 365 days", ID: "over-365", min: 366, max: math.MaxInt},
	{Label: "unknown age", ID: "unknown", unknown: true},
}

// chartSeries is a key status the chart splits bars by.
type chartSeries struct {
	ID, Label string
}

var (
	seriesActive   = chartSeries{ID: "active", Label: "Active"}
	seriesInactive = chartSeries{ID: "inactive", Label: "Inactive"}
	seriesUnknown  = chartSeries{ID: "unknown", Label: "Status unknown"}
)

// Chart geometry, in SVG user units; the SVG scales to the page width.
const (
	chartWidth    = 760
	chartHeight   = 280
	chartLeft     = 20
	chartRight    = 20
	chartBaseline = 220 // y of the bars' foot
	chartPlotTop  = 50  // y the tallest bar reaches
	chartBarWidth = 26
	chartBarGap   = 6
)

// ageChart is the key-age bar chart, laid out for the template.
type ageChart struct {
	Width, Height, Baseline, Left, Right int
	Series                               []legendItem
	Groups                               []chartGroup
	Total                                int
	AsOf                                 string
	Desc                                 string // the whole chart in words, for screen readers
}

type legendItem struct {
	chartSeries
	X, Y         int // swatch position
	TextX, TextY int
}

type chartGroup struct {
	Label, ID      string
	X              int // centre
	LabelY, TotalY int
	Total          int
	Bars           []chartBar
}

type chartBar struct {
	Series         chartSeries
	Count          int
	X, Y, W, H     int
	LabelX, LabelY int
}

// newAgeChart counts keys by age bucket and status (from the age_days and
// status fields) and lays the bars out. The status-unknown series appears
// only when some key has no known status.
func newAgeChart(entries []Entry, asOf time.Time) ageChart {
	series := []chartSeries{seriesActive, seriesInactive}
	counts := make([]map[string]int, len(ageBuckets))
	for i := range counts {
		counts[i] = map[string]int{}
	}
	for _, e := range entries {
		s := statusSeries(fieldString(e, "status"))
		if s == seriesUnknown && len(series) == 2 {
			series = append(series, seriesUnknown)
		}
		days, ok := fieldInt(e, "age_days")
		counts[bucketOf(days, ok)][s.ID]++
	}
	c := ageChart{Width: chartWidth, Height: chartHeight, Baseline: chartBaseline, Left: chartLeft,
		Right: chartWidth - chartRight, Total: len(entries), AsOf: newHTMLTime(asOf).Text}
	c.Groups = layoutGroups(series, counts)
	for i, s := range series {
		x := chartLeft + i*140
		c.Series = append(c.Series, legendItem{chartSeries: s, X: x, Y: 10, TextX: x + 18, TextY: 21})
	}
	c.Desc = chartDesc(c)
	return c
}

func statusSeries(status string) chartSeries {
	switch status {
	case "Active":
		return seriesActive
	case "Inactive":
		return seriesInactive
	}
	return seriesUnknown
}

// bucketOf is the index in ageBuckets of an age in days (ok false: unknown).
func bucketOf(days int, ok bool) int {
	for i, b := range ageBuckets {
		if b.unknown {
			if !ok {
				return i
			}
			continue
		}
		if ok && days >= b.min && days <= b.max {
			return i
		}
	}
	return len(ageBuckets) - 1 // a negative age is not one we can place
}

// layoutGroups places one group of bars per bucket, scaled so the largest
// count reaches the top of the plot; a non-zero count is never drawn
// thinner than 2 units, so it stays visible beside a large one.
func layoutGroups(series []chartSeries, counts []map[string]int) []chartGroup {
	most := 0
	for _, m := range counts {
		for _, n := range m {
			most = max(most, n)
		}
	}
	groupWidth := (chartWidth - chartLeft - chartRight) / len(ageBuckets)
	barsWidth := len(series)*chartBarWidth + (len(series)-1)*chartBarGap
	groups := make([]chartGroup, len(ageBuckets))
	for i, b := range ageBuckets {
		g := chartGroup{Label: b.Label, ID: b.ID, X: chartLeft + i*groupWidth + groupWidth/2,
			LabelY: chartBaseline + 20, TotalY: chartBaseline + 38}
		x := g.X - barsWidth/2
		for _, s := range series {
			n := counts[i][s.ID]
			h := 0
			if n > 0 {
				h = max(2, n*(chartBaseline-chartPlotTop)/most)
			}
			g.Bars = append(g.Bars, chartBar{Series: s, Count: n, X: x, Y: chartBaseline - h, W: chartBarWidth, H: h,
				LabelX: x + chartBarWidth/2, LabelY: chartBaseline - h - 5})
			g.Total += n
			x += chartBarWidth + chartBarGap
		}
		groups[i] = g
	}
	return groups
}

// chartDesc says what the chart shows in one paragraph.
func chartDesc(c ageChart) string {
	var parts []string
	for _, g := range c.Groups {
		var bars []string
		for _, b := range g.Bars {
			bars = append(bars, fmt.Sprintf("%d %s", b.Count, strings.ToLower(b.Series.Label)))
		}
		parts = append(parts, fmt.Sprintf("%s: %s", g.Label, strings.Join(bars, ", ")))
	}
	return fmt.Sprintf("%s by age as of %s. %s.", english.Count(c.Total, "access key"), c.AsOf, strings.Join(parts, "; "))
}
