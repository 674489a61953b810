// Command fleetgen writes a synthetic Flux GitOps repository for benchmarks
// and end-to-end tests.
//
// Usage:
//
//	go run ./hack/fleetgen -out DIR -clusters N -kustomizations M -objects K [-seed S]
//
// Layout of the generated repository:
//
//	clusters/cluster-XX/flux-system/gotk-sync.yaml       GitRepository + Kustomization flux-system
//	clusters/cluster-XX/flux-system/namespace.yaml        Namespace flux-system (as bootstrap's gotk-components has)
//	clusters/cluster-XX/flux-system/kustomization.yaml
//	clusters/cluster-XX/kustomization.yaml                flux-system, cluster-vars.yaml, kustomizations.yaml
//	clusters/cluster-XX/cluster-vars.yaml                 ConfigMap cluster-vars (postBuild variables)
//	clusters/cluster-XX/kustomizations.yaml               M Flux Kustomizations app-YYY
//	apps/app-YYY/base/                                    kustomization.yaml + exactly K objects
//	apps/app-YYY/overlays/cluster-XX/kustomization.yaml   per-cluster overlay
//
// Every cluster therefore reconciles M Kustomizations of K objects each, in
// addition to its flux-system objects. The output is a pure function of the
// flags: the same flags (including -seed) always produce byte-identical files.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Upper bounds guard against typos such as -objects 100000 filling the disk.
const (
	maxClusters       = 1000
	maxKustomizations = 10000
	maxObjects        = 10000

	// dependsOnStride makes app-(i) depend on app-(i-stride) whenever i is a
	// non-zero multiple of the stride: app-010 -> app-000, app-020 -> app-010, ...
	dependsOnStride = 10

	repoURL = "https://github.com/example-org/fleet-synthetic"
)

type config struct {
	out            string
	clusters       int
	kustomizations int
	objects        int
	seed           uint64
}

// stats summarises what was written.
type stats struct {
	files          int
	appObjects     int // objects in apps/*/base (counted once, shared by all clusters)
	clusterObjects int // objects under clusters/ (all clusters)
}

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(os.Stderr, "fleetgen: %v\n", err)
		}
		os.Exit(2)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	st, err := generate(cfg)
	if err != nil {
		return err
	}
	perCluster := cfg.kustomizations*cfg.objects + cfg.kustomizations + 3
	fmt.Fprintf(stdout,
		"fleetgen: wrote %d files to %s: %d clusters x %d kustomizations x %d objects (%d objects reconciled per cluster, %d in total)\n",
		st.files, cfg.out, cfg.clusters, cfg.kustomizations, cfg.objects, perCluster, perCluster*cfg.clusters)
	return nil
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("fleetgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.out, "out", "", "output directory (must not exist or be empty)")
	fs.IntVar(&cfg.clusters, "clusters", 3, fmt.Sprintf("number of clusters (1..%d)", maxClusters))
	fs.IntVar(&cfg.kustomizations, "kustomizations", 100, fmt.Sprintf("Flux Kustomizations per cluster (1..%d)", maxKustomizations))
	fs.IntVar(&cfg.objects, "objects", 10, fmt.Sprintf("Kubernetes objects per Kustomization, including its Namespace (1..%d)", maxObjects))
	fs.Uint64Var(&cfg.seed, "seed", 1, "random seed; identical flags and seed give identical output")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: fleetgen -out DIR -clusters N -kustomizations M -objects K [-seed S]\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if cfg.out == "" {
		return cfg, errors.New("-out is required")
	}
	if err := checkRange("-clusters", cfg.clusters, maxClusters); err != nil {
		return cfg, err
	}
	if err := checkRange("-kustomizations", cfg.kustomizations, maxKustomizations); err != nil {
		return cfg, err
	}
	if err := checkRange("-objects", cfg.objects, maxObjects); err != nil {
		return cfg, err
	}
	return cfg, nil
}

func checkRange(name string, v, max int) error {
	if v < 1 || v > max {
		return fmt.Errorf("%s must be between 1 and %d, got %d", name, max, v)
	}
	return nil
}

// generator holds the state of one generation run.
type generator struct {
	cfg   config
	cw    int // digits in cluster indices
	aw    int // digits in app indices
	stats stats
}

func generate(cfg config) (stats, error) {
	if err := prepareOut(cfg.out); err != nil {
		return stats{}, err
	}
	g := &generator{cfg: cfg, cw: width(cfg.clusters, 2), aw: width(cfg.kustomizations, 3)}
	for a := 0; a < cfg.kustomizations; a++ {
		if err := g.writeApp(a); err != nil {
			return g.stats, err
		}
	}
	for c := 0; c < cfg.clusters; c++ {
		if err := g.writeCluster(c); err != nil {
			return g.stats, err
		}
	}
	return g.stats, nil
}

// prepareOut creates dir, refusing to write into a non-empty directory so a
// mistyped -out never mixes with (or clobbers) existing files.
func prepareOut(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return os.MkdirAll(dir, 0o755)
	case err != nil:
		return fmt.Errorf("-out %s: %w", dir, err)
	case len(entries) > 0:
		return fmt.Errorf("-out %s: directory is not empty", dir)
	}
	return nil
}

// width returns the number of decimal digits needed for indices 0..n-1, at least min.
func width(n, min int) int {
	w := len(strconv.Itoa(n - 1))
	if w < min {
		return min
	}
	return w
}

func (g *generator) clusterName(c int) string { return fmt.Sprintf("cluster-%0*d", g.cw, c) }
func (g *generator) appName(a int) string     { return fmt.Sprintf("app-%0*d", g.aw, a) }

// rng returns a generator private to (stream, a, b) so that each app's or
// overlay's content depends only on the seed and its own indices, never on
// how many other apps or clusters are generated.
func (g *generator) rng(stream, a, b uint64) *rand.Rand {
	return rand.New(rand.NewPCG(g.cfg.seed, stream<<56^a<<28^b))
}

func (g *generator) write(rel string, docs []string) error {
	path := filepath.Join(g.cfg.out, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	var b strings.Builder
	for i, d := range docs {
		if i > 0 || len(docs) > 1 {
			b.WriteString("---\n")
		}
		b.WriteString(d)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return err
	}
	g.stats.files++
	return nil
}

// ---------------------------------------------------------------------------
// clusters/

var regions = []string{"eu-west-1", "eu-central-1", "us-east-1", "us-west-2", "ap-southeast-1", "ap-northeast-1"}
var environments = []string{"production", "staging", "development"}

func (g *generator) writeCluster(c int) error {
	cluster := g.clusterName(c)
	dir := "clusters/" + cluster
	r := g.rng(1, uint64(c), 0)

	sync := []string{
		`apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 1m0s
  ref:
    branch: main
  url: ` + repoURL + `
`,
		`apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 10m0s
  path: ./` + dir + `
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
`,
	}
	if err := g.write(dir+"/flux-system/gotk-sync.yaml", sync); err != nil {
		return err
	}
	// Bootstrap's gotk-components.yaml creates the namespace the Flux
	// objects and cluster-vars live in; without it a deploy of the
	// fleet would fail at its root.
	if err := g.write(dir+"/flux-system/namespace.yaml", []string{`apiVersion: v1
kind: Namespace
metadata:
  name: flux-system
`}); err != nil {
		return err
	}
	if err := g.write(dir+"/flux-system/kustomization.yaml", []string{`apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - namespace.yaml
  - gotk-sync.yaml
`}); err != nil {
		return err
	}
	if err := g.write(dir+"/kustomization.yaml", []string{`apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - flux-system
  - cluster-vars.yaml
  - kustomizations.yaml
`}); err != nil {
		return err
	}

	region := regions[r.IntN(len(regions))]
	env := environments[r.IntN(len(environments))]
	if err := g.write(dir+"/cluster-vars.yaml", []string{fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata:
  name: cluster-vars
  namespace: flux-system
data:
  CLUSTER_NAME: %[1]s
  CLUSTER_REGION: %[2]s
  CLUSTER_ENV: %[3]s
  CLUSTER_DOMAIN: %[1]s.example.org
  INGRESS_CLASS: nginx
`, cluster, region, env)}); err != nil {
		return err
	}

	docs := make([]string, 0, g.cfg.kustomizations)
	for a := 0; a < g.cfg.kustomizations; a++ {
		app := g.appName(a)
		var b strings.Builder
		fmt.Fprintf(&b, `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: %[1]s
  namespace: flux-system
spec:
  interval: 10m0s
  retryInterval: 2m0s
  timeout: 5m0s
  path: ./apps/%[1]s/overlays/%[2]s
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
`, app, cluster)
		if a >= dependsOnStride && a%dependsOnStride == 0 {
			fmt.Fprintf(&b, "  dependsOn:\n    - name: %s\n", g.appName(a-dependsOnStride))
		}
		fmt.Fprintf(&b, `  postBuild:
    substitute:
      APP_NAME: %s
      APP_TIER: %s
    substituteFrom:
      - kind: ConfigMap
        name: cluster-vars
`, app, tiers[a%len(tiers)])
		docs = append(docs, b.String())
	}
	if err := g.write(dir+"/kustomizations.yaml", docs); err != nil {
		return err
	}
	g.stats.clusterObjects += 2 + 1 + g.cfg.kustomizations
	return nil
}

var tiers = []string{"frontend", "backend", "worker", "data"}

// ---------------------------------------------------------------------------
// apps/

// kindSpec describes one entry of the cycle of object kinds. After the
// Namespace (always object 0) the kinds repeat in this order; round r > 0 of
// the cycle produces a further component named app-YYY-cR.
type kindSpec struct {
	file   string
	render func(o objCtx) string
}

type objCtx struct {
	app  string // app-YYY, also the namespace
	comp string // component name: app-YYY for round 0, app-YYY-cR afterwards
	r    *rand.Rand
}

var kindCycle = []kindSpec{
	{"deployment.yaml", renderDeployment},
	{"service.yaml", renderService},
	{"configmap.yaml", renderConfigMap},
	{"serviceaccount.yaml", renderServiceAccount},
	{"rbac.yaml", renderRole},
	{"rbac.yaml", renderRoleBinding},
	{"pdb.yaml", renderPDB},
	{"hpa.yaml", renderHPA},
	{"networkpolicy.yaml", renderNetworkPolicy},
	{"ingress.yaml", renderIngress},
	{"cronjob.yaml", renderCronJob},
	{"resourcequota.yaml", renderResourceQuota},
	{"limitrange.yaml", renderLimitRange},
}

func (g *generator) writeApp(a int) error {
	app := g.appName(a)
	r := g.rng(2, uint64(a), 0)

	// File name -> documents, plus the order in which files first appear.
	files := map[string][]string{"namespace.yaml": {renderNamespace(app, a)}}
	order := []string{"namespace.yaml"}
	for i := 1; i < g.cfg.objects; i++ {
		round, k := (i-1)/len(kindCycle), (i-1)%len(kindCycle)
		comp := app
		if round > 0 {
			comp = fmt.Sprintf("%s-c%d", app, round)
		}
		spec := kindCycle[k]
		if _, ok := files[spec.file]; !ok {
			order = append(order, spec.file)
		}
		files[spec.file] = append(files[spec.file], spec.render(objCtx{app: app, comp: comp, r: r}))
	}
	base := "apps/" + app + "/base/"
	for _, f := range order {
		if err := g.write(base+f, files[f]); err != nil {
			return err
		}
	}
	var k strings.Builder
	k.WriteString(`apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
labels:
  - pairs:
      app.kubernetes.io/part-of: ` + app + `
      app.kubernetes.io/managed-by: flux
resources:
`)
	for _, f := range order {
		k.WriteString("  - " + f + "\n")
	}
	if err := g.write(base+"kustomization.yaml", []string{k.String()}); err != nil {
		return err
	}
	g.stats.appObjects += g.cfg.objects

	for c := 0; c < g.cfg.clusters; c++ {
		if err := g.writeOverlay(a, c); err != nil {
			return err
		}
	}
	return nil
}

func (g *generator) writeOverlay(a, c int) error {
	app, cluster := g.appName(a), g.clusterName(c)
	r := g.rng(3, uint64(a), uint64(c))
	var b strings.Builder
	fmt.Fprintf(&b, `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: %s
resources:
  - ../../base
labels:
  - pairs:
      fleet.example.org/cluster: %s
`, app, cluster)
	if g.cfg.objects >= 2 { // object 1 is always the Deployment named after the app
		fmt.Fprintf(&b, `patches:
  - target:
      group: apps
      version: v1
      kind: Deployment
      name: %s
    patch: |-
      - op: replace
        path: /spec/replicas
        value: %d
`, app, 1+r.IntN(4))
	}
	return g.write("apps/"+app+"/overlays/"+cluster+"/kustomization.yaml", []string{b.String()})
}

// ---------------------------------------------------------------------------
// Object templates. All are valid for Kubernetes 1.36 and comply with the
// "restricted" Pod Security Standard. ${VAR} references are resolved by Flux
// postBuild substitution from the Kustomization and the cluster-vars ConfigMap.

func renderNamespace(app string, a int) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Namespace
metadata:
  name: %[1]s
  labels:
    app.kubernetes.io/name: %[1]s
    pod-security.kubernetes.io/enforce: restricted
    fleet.example.org/tier: %[2]s
  annotations:
    fleet.example.org/cluster: ${CLUSTER_NAME}
    fleet.example.org/owner: team-%[3]d@example.org
`, app, tiers[a%len(tiers)], a%7)
}

func commonMeta(kind string, o objCtx, name string, extra string) string {
	return fmt.Sprintf(`metadata:
  name: %s
  namespace: %s
  labels:
    app.kubernetes.io/name: %s
    app.kubernetes.io/instance: %s
    app.kubernetes.io/component: %s
%s`, name, o.app, o.app, o.comp, strings.ToLower(kind), extra)
}

func selector(o objCtx, indent string) string {
	return fmt.Sprintf("%sapp.kubernetes.io/name: %s\n%sapp.kubernetes.io/instance: %s\n", indent, o.app, indent, o.comp)
}

func image(o objCtx) string {
	return fmt.Sprintf("ghcr.io/example-org/%s:v1.%d.%d", o.app, o.r.IntN(20), o.r.IntN(10))
}

const podSecurityContext = `      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        runAsGroup: 10001
        fsGroup: 10001
        seccompProfile:
          type: RuntimeDefault
`

const containerSecurityContext = `          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop:
                - ALL
`

func renderDeployment(o objCtx) string {
	cpu := 25 * (1 + o.r.IntN(8))
	mem := 64 * (1 + o.r.IntN(8))
	return `apiVersion: apps/v1
kind: Deployment
` + commonMeta("Deployment", o, o.comp, `  annotations:
    fleet.example.org/cluster: ${CLUSTER_NAME}
`) + fmt.Sprintf(`spec:
  replicas: %d
  revisionHistoryLimit: 5
  selector:
    matchLabels:
`, 1+o.r.IntN(3)) + selector(o, "      ") + `  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 25%
      maxUnavailable: 0
  template:
    metadata:
      labels:
` + selector(o, "        ") + `      annotations:
        prometheus.io/scrape: "true"
        prometheus.io/port: "9090"
    spec:
      serviceAccountName: ` + o.comp + `
      automountServiceAccountToken: false
      terminationGracePeriodSeconds: 30
` + podSecurityContext + `      containers:
        - name: app
          image: ` + image(o) + `
          imagePullPolicy: IfNotPresent
          args:
            - --listen=:8080
            - --metrics-listen=:9090
          ports:
            - name: http
              containerPort: 8080
              protocol: TCP
            - name: metrics
              containerPort: 9090
              protocol: TCP
          env:
            - name: CLUSTER_NAME
              value: ${CLUSTER_NAME}
            - name: APP_TIER
              value: ${APP_TIER:=backend}
            - name: POD_NAMESPACE
              valueFrom:
                fieldRef:
                  fieldPath: metadata.namespace
          envFrom:
            - configMapRef:
                name: ` + o.comp + `-config
                optional: true
          resources:
            requests:
              cpu: ` + strconv.Itoa(cpu) + `m
              memory: ` + strconv.Itoa(mem) + `Mi
            limits:
              memory: ` + strconv.Itoa(2*mem) + `Mi
          readinessProbe:
            httpGet:
              path: /readyz
              port: http
            periodSeconds: 10
          livenessProbe:
            httpGet:
              path: /healthz
              port: http
            initialDelaySeconds: 10
            periodSeconds: 20
` + containerSecurityContext + `          volumeMounts:
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
`
}

func renderService(o objCtx) string {
	return `apiVersion: v1
kind: Service
` + commonMeta("Service", o, o.comp, "") + `spec:
  type: ClusterIP
  selector:
` + selector(o, "    ") + `  ports:
    - name: http
      port: 80
      targetPort: http
      protocol: TCP
    - name: metrics
      port: 9090
      targetPort: metrics
      protocol: TCP
`
}

func renderConfigMap(o objCtx) string {
	return `apiVersion: v1
kind: ConfigMap
` + commonMeta("ConfigMap", o, o.comp+"-config", "") + fmt.Sprintf(`data:
  APP_NAME: ${APP_NAME}
  CLUSTER_NAME: ${CLUSTER_NAME}
  CLUSTER_REGION: ${CLUSTER_REGION}
  LOG_LEVEL: %s
  CACHE_TTL: %ds
  config.yaml: |
    server:
      port: 8080
      publicURL: https://%s.${CLUSTER_DOMAIN}
    features:
      newCheckout: %t
      darkMode: %t
`, []string{"debug", "info", "warn"}[o.r.IntN(3)], 30*(1+o.r.IntN(10)), o.comp, o.r.IntN(2) == 0, o.r.IntN(2) == 0)
}

func renderServiceAccount(o objCtx) string {
	return `apiVersion: v1
kind: ServiceAccount
` + commonMeta("ServiceAccount", o, o.comp, "") + `automountServiceAccountToken: false
`
}

func renderRole(o objCtx) string {
	return `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
` + commonMeta("Role", o, o.comp+"-reader", "") + `rules:
  - apiGroups:
      - ""
    resources:
      - configmaps
      - services
      - endpoints
    verbs:
      - get
      - list
      - watch
  - apiGroups:
      - coordination.k8s.io
    resources:
      - leases
    verbs:
      - get
      - create
      - update
`
}

func renderRoleBinding(o objCtx) string {
	return `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
` + commonMeta("RoleBinding", o, o.comp+"-reader", "") + `roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: ` + o.comp + `-reader
subjects:
  - kind: ServiceAccount
    name: ` + o.comp + `
    namespace: ` + o.app + `
`
}

func renderPDB(o objCtx) string {
	return `apiVersion: policy/v1
kind: PodDisruptionBudget
` + commonMeta("PodDisruptionBudget", o, o.comp, "") + `spec:
  maxUnavailable: 1
  unhealthyPodEvictionPolicy: AlwaysAllow
  selector:
    matchLabels:
` + selector(o, "      ")
}

func renderHPA(o objCtx) string {
	return `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
` + commonMeta("HorizontalPodAutoscaler", o, o.comp, "") + fmt.Sprintf(`spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: %s
  minReplicas: 1
  maxReplicas: %d
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: %d
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 300
      policies:
        - type: Percent
          value: 50
          periodSeconds: 60
`, o.comp, 4+o.r.IntN(7), 60+5*o.r.IntN(5))
}

func renderNetworkPolicy(o objCtx) string {
	return `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
` + commonMeta("NetworkPolicy", o, o.comp+"-ingress", "") + `spec:
  podSelector:
    matchLabels:
` + selector(o, "      ") + `  policyTypes:
    - Ingress
  ingress:
    - from:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: ingress-nginx
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: monitoring
      ports:
        - protocol: TCP
          port: 8080
        - protocol: TCP
          port: 9090
`
}

func renderIngress(o objCtx) string {
	return `apiVersion: networking.k8s.io/v1
kind: Ingress
` + commonMeta("Ingress", o, o.comp, `  annotations:
    nginx.ingress.kubernetes.io/proxy-body-size: 8m
`) + `spec:
  ingressClassName: ${INGRESS_CLASS:=nginx}
  tls:
    - hosts:
        - ` + o.comp + `.${CLUSTER_DOMAIN}
      secretName: ` + o.comp + `-tls
  rules:
    - host: ` + o.comp + `.${CLUSTER_DOMAIN}
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: ` + o.comp + `
                port:
                  name: http
`
}

func renderCronJob(o objCtx) string {
	return `apiVersion: batch/v1
kind: CronJob
` + commonMeta("CronJob", o, o.comp+"-cleanup", "") + fmt.Sprintf(`spec:
  schedule: "%d %d * * *"
  timeZone: Etc/UTC
  concurrencyPolicy: Forbid
  successfulJobsHistoryLimit: 3
  failedJobsHistoryLimit: 1
  jobTemplate:
    spec:
      backoffLimit: 2
      activeDeadlineSeconds: 1800
      ttlSecondsAfterFinished: 86400
      template:
        metadata:
          labels:
`, o.r.IntN(60), o.r.IntN(24)) + selector(o, "            ") + `        spec:
          restartPolicy: OnFailure
          serviceAccountName: ` + o.comp + `
          securityContext:
            runAsNonRoot: true
            runAsUser: 10001
            seccompProfile:
              type: RuntimeDefault
          containers:
            - name: cleanup
              image: ` + image(o) + `
              args:
                - cleanup
                - --older-than=168h
                - --cluster=${CLUSTER_NAME}
              resources:
                requests:
                  cpu: 10m
                  memory: 32Mi
                limits:
                  memory: 128Mi
              securityContext:
                allowPrivilegeEscalation: false
                readOnlyRootFilesystem: true
                capabilities:
                  drop:
                    - ALL
`
}

func renderResourceQuota(o objCtx) string {
	return `apiVersion: v1
kind: ResourceQuota
` + commonMeta("ResourceQuota", o, o.comp+"-quota", "") + fmt.Sprintf(`spec:
  hard:
    requests.cpu: "%d"
    requests.memory: %dGi
    limits.memory: %dGi
    pods: "%d"
    services: "20"
    persistentvolumeclaims: "10"
`, 2+o.r.IntN(7), 4+o.r.IntN(13), 8+o.r.IntN(25), 20+10*o.r.IntN(5))
}

func renderLimitRange(o objCtx) string {
	return `apiVersion: v1
kind: LimitRange
` + commonMeta("LimitRange", o, o.comp+"-limits", "") + `spec:
  limits:
    - type: Container
      default:
        cpu: 500m
        memory: 512Mi
      defaultRequest:
        cpu: 50m
        memory: 64Mi
      max:
        memory: 4Gi
`
}
