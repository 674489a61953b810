package deploy

import (
	"context"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// absentClient answers the one read fluxcd/pkg/ssa makes of each object
// before applying it from what the ownership check already learned: an
// object found missing there (its namespace did not exist, or reading it
// said so) is missing still — only its own Kustomization creates it, later
// in the same run. On a first deploy that is one request saved per object
// of three. Every other read goes to the API server, and each object is
// answered from memory once at most.
type absentClient struct {
	client.Client
	mu     sync.Mutex
	absent map[string]bool
}

func newAbsentClient(c client.Client) *absentClient {
	return &absentClient{Client: c, absent: map[string]bool{}}
}

func absentKey(gvk schema.GroupVersionKind, key client.ObjectKey) string {
	return key.Namespace + "_" + key.Name + "_" + gvk.Group + "_" + gvk.Kind
}

// markAbsent records that an object does not exist.
func (c *absentClient) markAbsent(u *unstructured.Unstructured) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.absent[absentKey(u.GroupVersionKind(), client.ObjectKeyFromObject(u))] = true
}

// take reports whether an object is known to be missing, and forgets it:
// the caller is about to create it.
func (c *absentClient) take(u *unstructured.Unstructured) bool {
	k := absentKey(u.GroupVersionKind(), client.ObjectKeyFromObject(u))
	c.mu.Lock()
	defer c.mu.Unlock()
	hit := c.absent[k]
	delete(c.absent, k)
	return hit
}

// forget drops what markAbsent recorded: the object was seen to exist.
func (c *absentClient) forget(u *unstructured.Unstructured) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.absent, absentKey(u.GroupVersionKind(), client.ObjectKeyFromObject(u)))
}

func (c *absentClient) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		gvk := u.GroupVersionKind()
		k := absentKey(gvk, key)
		c.mu.Lock()
		hit := c.absent[k]
		delete(c.absent, k)
		c.mu.Unlock()
		if hit {
			return apierrors.NewNotFound(schema.GroupResource{Group: gvk.Group, Resource: strings.ToLower(gvk.Kind) + "s"}, key.Name)
		}
	}
	return c.Client.Get(ctx, key, obj, opts...)
}
