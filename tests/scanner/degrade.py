"""Turn clean ticket PNGs into the pictures a door camera really takes.

Each function takes PIL images (the server's ticket.png, opened) and
returns a new picture; `pictures()` makes the whole set the tests scan.
Only Debian's python3-pil is needed.
"""
import io

from PIL import Image, ImageDraw, ImageFilter, ImageOps

CANVAS = (1280, 720)        # a phone or webcam photo


def grey(img):
    return img.convert("L")


def on_canvas(img, where=None, size=CANVAS, fill=235):
    """Paste img onto a light-grey photo-sized canvas (a table, a hand)."""
    canvas = Image.new("L", size, fill)
    x, y = where or ((size[0] - img.width) // 2, (size[1] - img.height) // 2)
    canvas.paste(img, (x, y))
    return canvas


def rotated(img, degrees=23):
    r = grey(img).rotate(degrees, resample=Image.BICUBIC, expand=True,
                         fillcolor=255)
    return on_canvas(r)


def scaled(img, factor=0.45):
    g = grey(img)
    s = g.resize((int(g.width * factor), int(g.height * factor)),
                 Image.BILINEAR)
    return on_canvas(s)


def blurred(img, radius=2.2):
    return on_canvas(grey(img)).filter(ImageFilter.GaussianBlur(radius))


def noisy(img, sigma=40):
    """Sensor noise: each pixel plus Gaussian noise of sigma levels."""
    g = on_canvas(grey(img))
    n = Image.effect_noise(g.size, sigma)
    # (g + n) / 2 * 2 - 128 = g + (n - 128), clipped
    return Image.blend(g, n, 0.5).point(lambda v: max(0, min(255,
                                                            2 * v - 128)))


def jpeg(img, quality=12):
    return _as_jpeg(on_canvas(grey(img)), quality)


def _as_jpeg(img, quality):
    """img after a trip through JPEG; the file's bytes in .jpeg_bytes."""
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    out = Image.open(io.BytesIO(buf.getvalue()))
    out.load()
    out.jpeg_bytes = buf.getvalue()
    return out


def _coeffs(src, dst):
    """PIL's perspective data: for each output pixel (in dst's frame) the
    input pixel (in src's frame) it shows."""
    rows = []
    rhs = []
    for (x, y), (u, v) in zip(dst, src):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    return _solve(rows, rhs)


def _solve(a, b):
    """Gaussian elimination for the 8x8 system (no numpy needed)."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(m[r][c]))
        m[c], m[p] = m[p], m[c]
        for r in range(n):
            if r != c:
                f = m[r][c] / m[c][c]
                m[r] = [x - f * y for x, y in zip(m[r], m[c])]
    return [m[i][n] / m[i][i] for i in range(n)]


def perspective(img, tilt=0.16):
    """The ticket seen from below and to the side: a trapezoid."""
    g = on_canvas(grey(img))
    w, h = g.size
    x0, y0 = (w - img.width) // 2, (h - img.height) // 2
    x1, y1 = x0 + img.width, y0 + img.height
    d = int(img.width * tilt)
    src = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    dst = [(x0 + d, y0 + d // 2), (x1 - d // 3, y0), (x1, y1),
           (x0, y1 - d // 3)]
    return g.transform(g.size, Image.PERSPECTIVE, _coeffs(src, dst),
                       Image.BICUBIC, fillcolor=235)


def two_tickets(a, b):
    """Two tickets side by side in one photo, a little turned."""
    ga = grey(a).rotate(8, resample=Image.BICUBIC, expand=True, fillcolor=255)
    gb = grey(b).rotate(-6, resample=Image.BICUBIC, expand=True, fillcolor=255)
    scale = min(1.0, (CANVAS[0] / 2 - 40) / max(ga.width, gb.width),
                (CANVAS[1] - 40) / max(ga.height, gb.height))
    ga = ga.resize((int(ga.width * scale), int(ga.height * scale)),
                   Image.BILINEAR)
    gb = gb.resize((int(gb.width * scale), int(gb.height * scale)),
                   Image.BILINEAR)
    canvas = Image.new("L", CANVAS, 225)
    canvas.paste(ga, (20, (CANVAS[1] - ga.height) // 2))
    canvas.paste(gb, (CANVAS[0] // 2 + 20, (CANVAS[1] - gb.height) // 2))
    return canvas


def phone_photo(img):
    """Everything at once, milder: turned, small, soft, uneven light,
    noisy, saved as a JPEG."""
    g = grey(img).rotate(-12, resample=Image.BICUBIC, expand=True,
                         fillcolor=255)
    g = g.resize((int(g.width * 0.7), int(g.height * 0.7)), Image.BILINEAR)
    g = on_canvas(g, fill=200).filter(ImageFilter.GaussianBlur(1.2))
    # Light from the left: a gradient that darkens the right side.
    shade = Image.linear_gradient("L").rotate(90).resize(g.size)
    g = Image.composite(g, ImageOps.autocontrast(g, cutoff=0).point(
        lambda v: int(v * 0.55)), ImageOps.invert(shade))
    g = Image.blend(g, Image.effect_noise(g.size, 14), 0.25)
    return _as_jpeg(g, 35)


# name -> (make(a, b), how many tickets the picture shows, file suffix)
PICTURES = {
    "rotated": (lambda a, b: rotated(a), 1, ".png"),
    "scaled": (lambda a, b: scaled(a), 1, ".png"),
    "blurred": (lambda a, b: blurred(a), 1, ".png"),
    "noisy": (lambda a, b: noisy(a), 1, ".png"),
    "jpeg_q12": (lambda a, b: jpeg(a), 1, ".jpg"),
    "perspective": (lambda a, b: perspective(a), 1, ".png"),
    "two_tickets": (two_tickets, 2, ".png"),
    "phone_photo": (lambda a, b: phone_photo(a), 1, ".jpg"),
}


def save(img, path):
    """PNG, or for .jpg the JPEG bytes the picture already has (or a
    quality-90 JPEG)."""
    if str(path).lower().endswith((".jpg", ".jpeg")):
        if getattr(img, "jpeg_bytes", None):
            with open(path, "wb") as f:
                f.write(img.jpeg_bytes)
        else:
            img.convert("L").save(path, "JPEG", quality=90)
    else:
        img.save(path, "PNG")


def raw_frame(img, size=(640, 480)):
    """The picture as one raw Y800 frame of the given size."""
    g = grey(img)
    if g.size != size:
        g = ImageOps.pad(g, size, color=230)
    return g.tobytes()
