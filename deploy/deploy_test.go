package deploy

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// shutdownTimeout is http.shutdown_timeout's default (config.Default); every
// stop grace below must exceed it.
const shutdownTimeout = 15 * time.Second

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func decodeYAML(t *testing.T, path string, v any) {
	t.Helper()
	if err := yaml.Unmarshal([]byte(read(t, path)), v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

var digestRE = regexp.MustCompile(`^FROM (\S+)@sha256:[0-9a-f]{64}( |$)`)

func TestDockerfile(t *testing.T) {
	t.Parallel()
	df := read(t, "../Dockerfile")
	froms := 0
	for _, line := range strings.Split(df, "\n") {
		if strings.HasPrefix(line, "FROM ") {
			froms++
			if !digestRE.MatchString(line) {
				t.Errorf("base image not pinned by digest: %s", line)
			}
		}
	}
	if froms < 2 {
		t.Errorf("found %d FROM lines, want the build and the runtime stage", froms)
	}
	for _, want := range []string{
		`HEALTHCHECK `, `CMD ["/secondme-bridge", "probe"]`,
		`org.opencontainers.image.source=`, `org.opencontainers.image.licenses="Apache-2.0"`,
		`org.opencontainers.image.version="${VERSION}"`, `org.opencontainers.image.revision="${COMMIT}"`,
		"USER 65532:65532", "CGO_ENABLED=0",
	} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	mk := read(t, "../Makefile")
	if !strings.Contains(mk, "-t secondme-bridge:local") {
		t.Error("make docker does not tag secondme-bridge:local, the tag the README and compose use")
	}
}

type composeFile struct {
	Services map[string]struct {
		Image       string         `yaml:"image"`
		Environment map[string]any `yaml:"environment"`
		Deploy      struct {
			Replicas int `yaml:"replicas"`
		} `yaml:"deploy"`
		Healthcheck struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
		StopGracePeriod string                    `yaml:"stop_grace_period"`
		DependsOn       map[string]map[string]any `yaml:"depends_on"`
		Ports           []string                  `yaml:"ports"`
		Volumes         []string                  `yaml:"volumes"`
	} `yaml:"services"`
}

// TestCompose: a load balancer in front of two bridge replicas and Redis,
// health checks everywhere, the bridge's through probe, and a stop grace
// period longer than the shutdown timeout.
func TestCompose(t *testing.T) {
	t.Parallel()
	var c composeFile
	decodeYAML(t, "../docker-compose.yaml", &c)
	bridge, ok := c.Services["bridge"]
	if !ok {
		t.Fatal("no bridge service")
	}
	if bridge.Deploy.Replicas != 2 {
		t.Errorf("bridge replicas = %d, want 2", bridge.Deploy.Replicas)
	}
	if bridge.Image != "secondme-bridge:local" {
		t.Errorf("bridge image %q, want secondme-bridge:local (what make docker tags)", bridge.Image)
	}
	if got := strings.Join(bridge.Healthcheck.Test, " "); !strings.HasPrefix(got, "CMD /secondme-bridge probe") {
		t.Errorf("bridge healthcheck %q, want the probe subcommand", got)
	}
	grace, err := time.ParseDuration(bridge.StopGracePeriod)
	if err != nil {
		t.Fatalf("stop_grace_period: %v", err)
	}
	timeout := shutdownTimeout
	if v, ok := bridge.Environment["SECONDME_BRIDGE_HTTP_SHUTDOWN_TIMEOUT"].(string); ok {
		if timeout, err = time.ParseDuration(v); err != nil {
			t.Fatal(err)
		}
	}
	if grace <= timeout+5*time.Second {
		t.Errorf("stop_grace_period %s is not well over the shutdown timeout %s", grace, timeout)
	}
	if len(bridge.Ports) != 0 {
		t.Errorf("bridge publishes ports %v: only the load balancer should", bridge.Ports)
	}
	if bridge.Environment["SECONDME_BRIDGE_HTTP_ADMIN_LISTEN"] == nil {
		t.Error("bridge does not move /metrics to an admin listener")
	}
	lb, ok := c.Services["lb"]
	if !ok {
		t.Fatal("no lb service")
	}
	if lb.DependsOn["bridge"]["condition"] != "service_healthy" || len(lb.Ports) == 0 || len(lb.Healthcheck.Test) == 0 {
		t.Errorf("lb = %+v, want it published, health-checked and waiting for healthy bridges", lb)
	}
	if r := c.Services["redis"]; len(r.Healthcheck.Test) == 0 || bridge.DependsOn["redis"]["condition"] != "service_healthy" {
		t.Error("redis is not health-checked, or the bridge does not wait for it")
	}
	cfg := read(t, "compose/haproxy.cfg")
	for _, want := range []string{"option httpchk GET /readyz", "http-check expect status 200", "server-template bridge ", "bridge:8080", "resolvers docker"} {
		if !strings.Contains(cfg, want) {
			t.Errorf("haproxy.cfg lacks %q", want)
		}
	}
	if !strings.Contains(strings.Join(lb.Volumes, " "), "./deploy/compose/haproxy.cfg:") {
		t.Errorf("lb does not mount deploy/compose/haproxy.cfg: %v", lb.Volumes)
	}

	// HAProxy's own check of the file, where it is installed (.ci/run
	// installs Debian's haproxy; compose runs haproxy:3.0).
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but haproxy is not installed (.ci/run installs it)")
		}
		t.Skip("haproxy not installed: haproxy.cfg checked by the lines above only")
	}
	if out, err := exec.Command(haproxy, "-c", "-f", "compose/haproxy.cfg").CombinedOutput(); err != nil {
		t.Errorf("haproxy -c: %v\n%s", err, out)
	}
}

// unit parses a systemd unit file into section → key → values.
func unit(t *testing.T, path string) map[string]map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	out := map[string]map[string][]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.Trim(line, "[]")
			out[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s:%d: not a key=value line in a section: %q", path, n, line)
			}
			out[section][k] = append(out[section][k], v)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSystemdUnit(t *testing.T) {
	t.Parallel()
	const path = "systemd/secondme-bridge.service"
	u := unit(t, path)
	svc := u["Service"]
	for key, want := range map[string]string{
		"DynamicUser": "yes", "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
		"PrivateTmp": "yes", "PrivateDevices": "yes", "ProtectKernelTunables": "yes", "ProtectKernelModules": "yes",
		"ProtectControlGroups": "yes", "RestrictNamespaces": "yes", "RestrictSUIDSGID": "yes", "LockPersonality": "yes",
		"MemoryDenyWriteExecute": "yes", "SystemCallArchitectures": "native", "CapabilityBoundingSet": "",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX", "UMask": "0077", "StateDirectory": "secondme-bridge",
		"ExecReload": "/bin/kill -HUP $MAINPID", "Restart": "on-failure",
	} {
		if got := svc[key]; len(got) == 0 || got[0] != want {
			t.Errorf("[Service] %s = %q, want %q", key, got, want)
		}
	}
	if got := svc["ExecStart"]; len(got) != 1 || !strings.Contains(got[0], "secondme-bridge serve --config ") {
		t.Errorf("ExecStart = %q", got)
	}
	stop, err := time.ParseDuration(svc["TimeoutStopSec"][0])
	if err != nil || stop <= shutdownTimeout+5*time.Second {
		t.Errorf("TimeoutStopSec = %q (%v): want well over the %s shutdown timeout", svc["TimeoutStopSec"], err, shutdownTimeout)
	}
	if u["Install"]["WantedBy"][0] != "multi-user.target" {
		t.Errorf("[Install] = %v", u["Install"])
	}

	// systemd's own parser, where it is installed (.ci/run installs it):
	// any warning (an unknown or misspelt key is only a warning) fails.
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but systemd-analyze is not installed (.ci/run installs the systemd package)")
		}
		t.Skip("systemd-analyze not installed: unit checked by the parser above only")
	}
	// verify wants ExecStart to exist: point it at this test binary.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(t.TempDir(), "secondme-bridge.service")
	text := strings.ReplaceAll(read(t, path), "/usr/local/bin/secondme-bridge", self)
	if err := os.WriteFile(copyPath, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", copyPath).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

func TestGoreleaserConfig(t *testing.T) {
	t.Parallel()
	var g struct {
		Version int `yaml:"version"`
		Builds  []struct {
			Main    string   `yaml:"main"`
			Env     []string `yaml:"env"`
			Goos    []string `yaml:"goos"`
			Goarch  []string `yaml:"goarch"`
			Flags   []string `yaml:"flags"`
			Ldflags []string `yaml:"ldflags"`
		} `yaml:"builds"`
		Archives []struct {
			Files []string `yaml:"files"`
		} `yaml:"archives"`
		Checksum struct {
			NameTemplate string `yaml:"name_template"`
			Algorithm    string `yaml:"algorithm"`
		} `yaml:"checksum"`
	}
	decodeYAML(t, "goreleaser.yaml", &g)
	if g.Version != 2 || len(g.Builds) != 1 {
		t.Fatalf("goreleaser.yaml: version %d, %d builds", g.Version, len(g.Builds))
	}
	b := g.Builds[0]
	if b.Main != "./cmd/secondme-bridge" || !slices.Contains(b.Env, "CGO_ENABLED=0") || !slices.Contains(b.Flags, "-trimpath") {
		t.Errorf("build = %+v: want a static, trimmed build of ./cmd/secondme-bridge", b)
	}
	for _, os := range []string{"linux", "darwin"} {
		if !slices.Contains(b.Goos, os) {
			t.Errorf("goos lacks %s", os)
		}
	}
	for _, arch := range []string{"amd64", "arm64"} {
		if !slices.Contains(b.Goarch, arch) {
			t.Errorf("goarch lacks %s", arch)
		}
	}
	ld := strings.Join(b.Ldflags, " ")
	if !strings.Contains(ld, "-X main.version=") || !strings.Contains(ld, "-X main.commit=") {
		t.Errorf("ldflags %q do not stamp main.version and main.commit", ld)
	}
	if g.Checksum.Algorithm != "sha256" || g.Checksum.NameTemplate == "" {
		t.Errorf("checksum = %+v", g.Checksum)
	}
	for _, a := range g.Archives {
		for _, f := range a.Files {
			matches, err := filepath.Glob(filepath.Join("..", f))
			if err != nil || len(matches) == 0 {
				t.Errorf("archive file %q matches nothing", f)
			}
		}
	}
}

// TestHelmChart checks what helm lint cannot: the values keep secrets
// out, stop after the shutdown timeout, and the templates wire the probes,
// the PDB and the Secret references. (.ci/run runs helm lint and helm
// template on the chart.)
func TestHelmChart(t *testing.T) {
	t.Parallel()
	const dir = "helm/secondme-bridge"
	var chart struct {
		APIVersion string `yaml:"apiVersion"`
		Name       string `yaml:"name"`
		Version    string `yaml:"version"`
	}
	decodeYAML(t, dir+"/Chart.yaml", &chart)
	if chart.APIVersion != "v2" || chart.Name != "secondme-bridge" || chart.Version == "" {
		t.Errorf("Chart.yaml = %+v", chart)
	}
	var values struct {
		TerminationGracePeriodSeconds int `yaml:"terminationGracePeriodSeconds"`
		Config                        struct {
			HTTP struct {
				ShutdownTimeout string `yaml:"shutdown_timeout"`
			} `yaml:"http"`
		} `yaml:"config"`
		PodDisruptionBudget struct {
			Enabled bool `yaml:"enabled"`
		} `yaml:"podDisruptionBudget"`
		Redis map[string]any `yaml:"redis"`
	}
	decodeYAML(t, dir+"/values.yaml", &values)
	st, err := time.ParseDuration(values.Config.HTTP.ShutdownTimeout)
	if err != nil {
		t.Fatal(err)
	}
	if grace := time.Duration(values.TerminationGracePeriodSeconds) * time.Second; grace <= st+5*time.Second {
		t.Errorf("terminationGracePeriodSeconds %s is not well over shutdown_timeout %s", grace, st)
	}
	if !values.PodDisruptionBudget.Enabled {
		t.Error("the PodDisruptionBudget is off by default")
	}
	if _, ok := values.Redis["url"]; !ok {
		t.Error("values.redis.url missing: Redis is a dependency value")
	}
	vals := read(t, dir+"/values.yaml")
	for _, secret := range []string{"token:", "client_secret:", "encryption_key:", "signing_secret:", "bot_token:", "app_token:"} {
		if strings.Contains(vals, secret) {
			t.Errorf("values.yaml has %q: secrets belong in existingSecret", secret)
		}
	}
	dep := read(t, dir+"/templates/deployment.yaml")
	for _, want := range []string{"readinessProbe:", "livenessProbe:", "startupProbe:", "path: /readyz", "path: /healthz",
		"secretRef:", "secretKeyRef:", "terminationGracePeriodSeconds:", "readOnlyRootFilesystem", "runAsNonRoot"} {
		if !strings.Contains(dep+vals, want) {
			t.Errorf("the chart lacks %q", want)
		}
	}
	if !strings.Contains(read(t, dir+"/templates/pdb.yaml"), "kind: PodDisruptionBudget") {
		t.Error("no PodDisruptionBudget template")
	}
	if strings.Contains(strings.ToLower(read(t, dir+"/Chart.yaml")), "dependencies:") {
		t.Error("the chart bundles a dependency; Redis must stay external")
	}
}

func TestLicenseAndChangelog(t *testing.T) {
	t.Parallel()
	lic := read(t, "../LICENSE")
	if !strings.Contains(lic, "Apache License\n                           Version 2.0, January 2004") ||
		!strings.Contains(lic, "END OF TERMS AND CONDITIONS") || len(lic) < 10000 {
		t.Error("LICENSE is not the full Apache-2.0 text")
	}
	cl := read(t, "../CHANGELOG.md")
	if !strings.HasPrefix(cl, "# Changelog") || !strings.Contains(cl, "## [Unreleased]") {
		t.Error("CHANGELOG.md lacks its heading or an Unreleased section")
	}
}
