package lambdarun_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/example/secret-rotation/internal/testkit/lambdarun"
)

// Build a function, run it under the emulator and invoke it. (Compiled,
// not run.)
func ExampleStart() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "example-")
	defer os.RemoveAll(dir)

	bootstrap, err := lambdarun.BuildFunction(ctx, "./testdata/echo", dir)
	if err != nil {
		panic(err) // in a test: t.Fatal
	}
	fn, err := lambdarun.Start(ctx, bootstrap, map[string]string{"SETTING": "x"})
	if err != nil {
		panic(err)
	}
	defer fn.Close()

	out, err := fn.Invoke(ctx, map[string]string{"action": "error", "message": "boom"})
	var fe *lambdarun.FunctionError
	if errors.As(err, &fe) {
		fmt.Println(fe.Type, fe.Message, string(out))
	}
	// smlocal.HTTPInvoker(fn.InvokeURL()) lets RotateSecret call it.
}
