"""Blocks of Java calls: Java exceptions as Python exceptions, Python's autograd mode kept, output captured."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from djl_bridge.jvm.grad_mode import djl_grad_mode
from djl_bridge.jvm.runtime import current_engine, jclass


class JavaError(RuntimeError):
    """A Java exception raised on the DJL side, with its class, message and stack trace."""

    def __init__(self, java_class: str, message: str, stack_trace: str) -> None:
        super().__init__(f"{java_class}: {message}")
        self.java_class = java_class
        self.message = message
        self.stack_trace = stack_trace

    def root_cause(self) -> str:
        """The innermost 'Caused by' line of the Java stack trace (or the exception itself)."""
        causes = [
            ln.strip()[len("Caused by: ") :]
            for ln in self.stack_trace.splitlines()
            if ln.strip().startswith("Caused by: ")
        ]
        return causes[-1] if causes else f"{self.java_class}: {self.message}"

    def root(self) -> tuple[str, str]:
        """(class, message) of the root cause."""
        java_class, _, message = self.root_cause().partition(": ")
        return java_class, message


@contextlib.contextmanager
def java_call() -> Iterator[None]:
    """Run a block of Java calls: exceptions become :class:`JavaError`; grad mode as each side expects it."""
    import jpype

    try:
        with djl_grad_mode(current_engine() == "pytorch"):
            yield
    except jpype.JException as exc:
        writer = jclass("java.io.StringWriter")()
        exc.printStackTrace(jclass("java.io.PrintWriter")(writer, True))
        raise JavaError(str(exc.getClass().getName()), str(exc.getMessage()), str(writer.toString())) from None


@dataclass
class JavaOutput:
    """What Java printed while a :func:`capture_java_output` block ran."""

    stdout: str = ""
    stderr: str = ""
    lines: list[str] = field(default_factory=list)


@contextlib.contextmanager
def capture_java_output(echo: bool = False) -> Iterator[JavaOutput]:
    """Redirect ``System.out``/``System.err`` into buffers for the block; fill the yielded record."""
    System = jclass("java.lang.System")
    Baos, PrintStream = jclass("java.io.ByteArrayOutputStream"), jclass("java.io.PrintStream")
    out_buf, err_buf = Baos(), Baos()
    old_out, old_err = System.out, System.err
    System.setOut(PrintStream(out_buf, True, "UTF-8"))
    System.setErr(PrintStream(err_buf, True, "UTF-8"))
    result = JavaOutput()
    try:
        yield result
    finally:
        System.out.flush()
        System.err.flush()
        System.setOut(old_out)
        System.setErr(old_err)
        result.stdout = str(out_buf.toString("UTF-8"))
        result.stderr = str(err_buf.toString("UTF-8"))
        result.lines = result.stdout.splitlines()
        if echo and result.stdout:
            print(result.stdout, end="")
