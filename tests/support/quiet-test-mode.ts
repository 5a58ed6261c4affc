// Handlers are imported by tests without a Functions host, so @azure/functions warns that it
// runs in "test mode" and skips registration. That is expected here; every other warning
// still reaches the console.
const warn = console.warn.bind(console);
console.warn = (...args: unknown[]) => {
  if (/Azure Functions runtime|test mode/.test(String(args[0]))) return;
  warn(...args);
};
