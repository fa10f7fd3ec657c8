package auditaws

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"golang.org/x/sync/errgroup"

	"github.com/keywarden/keywarden/internal/audit"
	"github.com/keywarden/keywarden/internal/awsx"
)

// regionConcurrency bounds how many regions are read at once: each region
// is a handful of sequential calls, mostly waiting on the network, and an
// organization read multiplies this by its own account concurrency.
const regionConcurrency = 4

// placeInstances is the regional read of instances and their profiles; the
// other places are audit's Where* constants.
const placeInstances = "ec2-instances"

// embeddedPlaces are the Where* places in the order their unread state is
// reported.
var embeddedPlaces = []string{audit.WhereLambdaEnv, audit.WhereEC2UserData, audit.WhereECSTaskEnv, audit.WhereSSMString}

// placeFacts says, for warnings, what an unread place leaves unknown.
var placeFacts = map[string]string{
	placeAnalyzers:         "whether IAM Access Analyzer is on",
	placeInstances:         "instance profiles of EC2 instances",
	audit.WhereLambdaEnv:   "keys embedded in " + audit.WhereLambdaEnv,
	audit.WhereEC2UserData: "keys embedded in " + audit.WhereEC2UserData,
	audit.WhereECSTaskEnv:  "keys embedded in " + audit.WhereECSTaskEnv,
	audit.WhereSSMString:   "keys embedded in " + audit.WhereSSMString,
}

// discoverRegions decides where the regional reads go: the regions the
// caller named, else the account's enabled regions (awsx.EnabledRegions:
// one ec2:DescribeRegions, kept to the configured region's partition). When
// the list cannot be read only the configured region is read and the
// inventory says the rest are unknown.
func (r *accountReader) discoverRegions(ctx context.Context) {
	if len(r.regions) > 0 {
		regions := slices.Clone(r.regions)
		slices.Sort(regions)
		r.setRegions(slices.Compact(regions), false)
		return
	}
	regions, err := awsx.EnabledRegions(ctx, r.cfg)
	if err != nil {
		r.optional("ec2:DescribeRegions", "EC2 instances and embedded keys in regions other than "+r.cfg.Region, err)
		r.setRegions([]string{r.cfg.Region}, true)
		return
	}
	r.setRegions(regions, false)
}

func (r *accountReader) setRegions(regions []string, incomplete bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inv.Regions, r.inv.RegionsIncomplete = regions, incomplete
}

// regionalReads reads every region of inv.Regions, regionConcurrency at a
// time, and merges the results in region order so the inventory does not
// depend on which region answered first. Every read is optional; only a
// cancelled ctx is an error.
func (r *accountReader) regionalReads(ctx context.Context) error {
	r.mu.Lock()
	regions := slices.Clone(r.inv.Regions)
	r.mu.Unlock()
	reads := make([]*regionRead, len(regions))
	var g errgroup.Group
	g.SetLimit(regionConcurrency)
	for i, region := range regions {
		reads[i] = r.newRegionRead(region)
		g.Go(func() error {
			reads[i].read(ctx)
			r.progress.regionRead()
			return nil
		})
	}
	_ = g.Wait()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("read regions: %w", err)
	}
	r.mergeRegions(reads)
	return nil
}

// regionRead is one region's read. It is owned by one goroutine, so it
// collects its results without locking and the account merges them after.
type regionRead struct {
	acct   *accountReader
	region string
	ec2    *ec2.Client
	lambda *lambda.Client
	ecs    *ecs.Client
	ssm    *ssm.Client

	reached   bool // a call in the region has succeeded
	aborted   bool // the region could not be reached; the rest was skipped
	failures  []regionFailure
	unread    map[string]bool // places not (fully) read
	instances []audit.Instance
	analyzers []audit.Analyzer
	ids       []string // instances whose user data to read
	embedded  []audit.EmbeddedKey
	warnings  []string
	cut       []string // reads cut short or partly decoded, for the region's gap
}

// regionFailure is the first error of one action in a region, and the
// places it left unread.
type regionFailure struct {
	action string
	places []string
	err    error
}

func (r *accountReader) newRegionRead(region string) *regionRead {
	cfg := r.configIn(region)
	return &regionRead{acct: r, region: region, unread: map[string]bool{},
		ec2: ec2.NewFromConfig(cfg), lambda: lambda.NewFromConfig(cfg), ecs: ecs.NewFromConfig(cfg), ssm: ssm.NewFromConfig(cfg)}
}

// read runs the region's reads in order; instances come first, as user
// data needs their ids, and as the probe that finds a region unreachable
// after one failed call instead of five.
func (rr *regionRead) read(ctx context.Context) {
	for _, step := range []func(context.Context){rr.listInstances, rr.ec2UserData, rr.lambdaEnv, rr.ecsTaskEnv, rr.ssmStrings, rr.listAnalyzers} {
		if rr.aborted || ctx.Err() != nil {
			return
		}
		step(ctx)
	}
}

// ok notes a successful call: the region is reachable.
func (rr *regionRead) ok() { rr.reached = true }

// fail records that action failed, leaving places unread. An error saying
// the region itself is out of reach (regionUnreachable), before any call in
// the region succeeded, skips the region's other reads rather than let each
// fail after its retries.
func (rr *regionRead) fail(action string, err error, places ...string) {
	for _, p := range places {
		rr.unread[p] = true
	}
	if i := slices.IndexFunc(rr.failures, func(f regionFailure) bool { return f.action == action }); i >= 0 {
		rr.failures[i].places = append(rr.failures[i].places, places...)
	} else {
		rr.failures = append(rr.failures, regionFailure{action: action, places: places, err: err})
	}
	if !rr.reached && regionUnreachable(err) {
		rr.aborted = true
	}
}

// unreachableCodes are the errors AWS gives for a region the account
// cannot use: EC2's AuthFailure and the other services' token errors for an
// opt-in region not enabled, OptInRequired for a service not subscribed.
var unreachableCodes = map[string]bool{
	"AuthFailure": true, "UnrecognizedClientException": true, "InvalidClientTokenId": true, "OptInRequired": true,
}

// regionUnreachable reports whether err says the region cannot be used at
// all: no HTTP response (endpoint unresolvable or refusing connections), or
// one of unreachableCodes.
func regionUnreachable(err error) bool {
	var send *smithyhttp.RequestSendError
	var apiErr smithy.APIError
	return errors.As(err, &send) || (errors.As(err, &apiErr) && unreachableCodes[apiErr.ErrorCode()])
}

func (rr *regionRead) warn(format string, args ...any) {
	rr.warnings = append(rr.warnings, fmt.Sprintf(format, args...))
}

// tooMany records a read cut at embeddedMaxResources.
func (rr *regionRead) tooMany(what, where string) {
	rr.warn("more than %d %s in %s: the rest were not read for embedded keys", embeddedMaxResources, what, rr.region)
	rr.cut = append(rr.cut, fmt.Sprintf("more than %d %s: the rest not read", embeddedMaxResources, what))
	rr.unread[where] = true
}

// gap is what the region left unread, for the audit's list of what it
// could not read: every failure and cut, and the facts they leave unknown.
func (rr *regionRead) gap() (audit.Gap, bool) {
	if len(rr.failures) == 0 && len(rr.cut) == 0 {
		return audit.Gap{}, false
	}
	var what []string
	for _, f := range rr.failures {
		what = append(what, describeFailure(f))
	}
	what = append(what, rr.cut...)
	reason := strings.Join(what, "; ")
	unread := rr.unreadPlaces()
	var places []string
	for _, p := range append([]string{placeAnalyzers, placeInstances}, embeddedPlaces...) {
		if unread[p] {
			places = append(places, p)
		}
	}
	if len(places) > 0 {
		reason += ": " + factsOf(places) + " unknown"
	}
	if rr.aborted {
		reason = "not read (" + reason + ")"
	}
	return audit.Gap{Source: "region " + rr.region, Reason: reason}, true
}

// unreadPlaces is every place the region left unread: all of them when it
// was out of reach.
func (rr *regionRead) unreadPlaces() map[string]bool {
	if !rr.aborted {
		return rr.unread
	}
	all := map[string]bool{placeAnalyzers: true, placeInstances: true}
	for _, w := range embeddedPlaces {
		all[w] = true
	}
	return all
}

// mergeRegions moves the regions' results into the inventory.
func (r *accountReader) mergeRegions(reads []*regionRead) {
	r.mu.Lock()
	defer r.mu.Unlock()
	inv := r.inv
	inv.Instances, inv.InstanceRegions, inv.InstanceRegionsUnread = nil, nil, nil
	inv.Analyzers, inv.AnalyzerRegionsUnread = nil, nil
	unreadIn := map[string][]string{}
	var groups failureGroups
	for _, rr := range reads {
		inv.Embedded = append(inv.Embedded, rr.embedded...)
		inv.Warnings = append(inv.Warnings, rr.warnings...)
		unread := rr.unreadPlaces()
		if unread[placeAnalyzers] {
			inv.AnalyzerRegionsUnread = append(inv.AnalyzerRegionsUnread, rr.region)
		} else {
			inv.Analyzers = append(inv.Analyzers, audit.RegionAnalyzers{Region: rr.region, Analyzers: rr.analyzers})
		}
		if unread[placeInstances] {
			inv.InstanceRegionsUnread = append(inv.InstanceRegionsUnread, rr.region)
		} else {
			inv.Instances = append(inv.Instances, rr.instances...)
			inv.InstanceRegions = append(inv.InstanceRegions, rr.region)
		}
		for _, w := range embeddedPlaces {
			if unread[w] {
				unreadIn[w] = append(unreadIn[w], rr.region)
			}
		}
		inv.Warnings = append(inv.Warnings, rr.failureWarnings(len(unread) == len(embeddedPlaces)+2, &groups)...)
		if g, ok := rr.gap(); ok {
			inv.Unread = append(inv.Unread, g)
		}
	}
	inv.Warnings = append(inv.Warnings, groups.warnings()...)
	inv.InstancesRead = len(inv.InstanceRegions) > 0
	inv.EmbeddedUnread, inv.EmbeddedUnreadRegions = nil, nil
	for _, w := range embeddedPlaces {
		if len(unreadIn[w]) > 0 {
			inv.EmbeddedUnread = append(inv.EmbeddedUnread, w)
			if inv.EmbeddedUnreadRegions == nil {
				inv.EmbeddedUnreadRegions = map[string][]string{}
			}
			inv.EmbeddedUnreadRegions[w] = unreadIn[w]
		}
	}
}

// failureWarnings words the region's failures: one warning for a region
// not read at all, else one per failure, gathered across regions so that a
// permission missing everywhere (or a service an endpoint does not serve)
// is one warning, not one per region.
func (rr *regionRead) failureWarnings(nothingRead bool, groups *failureGroups) []string {
	const lost = "its EC2 instances, embedded keys and Access Analyzer are unknown"
	if rr.aborted {
		var what []string
		for _, f := range rr.failures {
			what = append(what, describeFailure(f))
		}
		return []string{fmt.Sprintf("region %s not read (%s): %s", rr.region, strings.Join(what, "; "), lost)}
	}
	if nothingRead && len(rr.failures) > 0 && !slices.ContainsFunc(rr.failures, func(f regionFailure) bool { return !awsx.IsDenied(f.err) }) {
		var actions []string
		for _, f := range rr.failures {
			actions = append(actions, f.action+" denied")
		}
		return []string{fmt.Sprintf("region %s not read: %s (add them to the audit policy, or lift the SCP that denies the region): %s",
			rr.region, strings.Join(actions, ", "), lost)}
	}
	for _, f := range rr.failures {
		groups.add(f, rr.region)
	}
	return nil
}

func describeFailure(f regionFailure) string {
	if awsx.IsDenied(f.err) {
		return f.action + " denied"
	}
	return fmt.Sprintf("%s failed: %v", f.action, awsx.Plain(f.err))
}

// factsOf says what the places leave unknown.
func factsOf(places []string) string {
	var out []string
	for _, p := range places {
		if s := placeFacts[p]; s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return strings.Join(out, ", ")
}

// failureGroups gathers the same failure across regions, in first-seen order.
type failureGroups struct {
	order   []string // describeFailure of each
	regions map[string][]string
	places  map[string][]string
	denied  map[string]bool
}

func (g *failureGroups) add(f regionFailure, region string) {
	if g.regions == nil {
		g.regions, g.places, g.denied = map[string][]string{}, map[string][]string{}, map[string]bool{}
	}
	what := describeFailure(f)
	if _, seen := g.regions[what]; !seen {
		g.order = append(g.order, what)
		g.places[what] = f.places
		g.denied[what] = awsx.IsDenied(f.err)
	}
	g.regions[what] = append(g.regions[what], region)
}

func (g *failureGroups) warnings() []string {
	var out []string
	for _, what := range g.order {
		hint := ""
		if g.denied[what] {
			hint = " (add it to the audit policy)"
		}
		out = append(out, fmt.Sprintf("%s in %s%s: %s unknown there",
			what, strings.Join(g.regions[what], ", "), hint, factsOf(g.places[what])))
	}
	return out
}
