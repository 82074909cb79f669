/** A YAML float, kept apart from integers so that it can be spelled as Ruby spells it. */
export class RubyFloat extends Number {}

/**
 * A scalar as Ruby's `to_s` writes it, which is how GitLab turns YAML variable values into strings:
 * `true`, `10` for `012`, `1.0` for `1.0`, `1.0e+20`.
 */
export function rubyString(value: unknown): string {
  if (value instanceof RubyFloat) return rubyFloat(value.valueOf());
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : rubyFloat(value);
  if (typeof value === "boolean") return value ? "true" : "false";
  return String(value);
}

function rubyFloat(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (!Number.isFinite(n)) return n > 0 ? "Infinity" : "-Infinity";
  const abs = Math.abs(n);
  if (abs !== 0 && (abs >= 1e16 || abs < 1e-4)) {
    const [mantissa = "0", exponent = "0"] = n.toExponential().split("e");
    const sign = exponent.startsWith("-") ? "-" : "+";
    const digits = exponent.replace(/^[-+]/, "").padStart(2, "0");
    return `${mantissa.includes(".") ? mantissa : `${mantissa}.0`}e${sign}${digits}`;
  }
  return Number.isInteger(n) ? n.toFixed(1) : String(n);
}
