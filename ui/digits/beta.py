"""Digits, β: the KL weight from 0 (the autoencoder) to 16, one trained model per weight; the
map of each, the reconstruction-versus-KL trade-off of the family, and its table."""

import gradio as gr

from latent_lab.digits import beta
from latent_lab.streams import on_model_thread
from ui import answers, errors

BETA_HELP = """
**β, the KL weight.** The same networks, trained the same way, with the KL term weighted by β: 0 is the plain
autoencoder, 1 the ELBO. Move the slider: the map is the 2-number model trained at that weight (each map is drawn once
and kept), the plot places every model by its reconstruction (PSNR of decode(μ)) against its KL (nats per digit), and
the table gives the numbers; all are measured on the 500 test digits.
{claims}
A number is *active* when its KL, averaged over the test digits, is above {active} nats (an autoencoder has no KL:
its numbers count as active when their μ varies, variance above 0.01). *code std*: the spread of the test digits' μ,
averaged over the numbers. *clear share*: the cells of the ±3 map that are a clear digit. *prior*: the share of 1,024
random latents z ~ N(0, I) that decode to a clear digit. *kept label*: the test digits whose decode(μ) the classifier
gives their own label.
"""
CLAIMS = """
- **β = 0 and small β: the codes spread far.** The autoencoder's codes have `code_std` 12 (2.0 at β = 0.05, 1.4 at
  0.2): most dots lie beyond the rings, and random latents from N(0, I) miss them. With 16 numbers only 33% of the
  autoencoder's random latents decode to a clear digit (`prior_digit_likeness`).
- **Near β = 1 the codes fill N(0, I)**: `code_std` about 1 with 2 numbers (1.09), the dots fill the rings; with 16,
  0.72 over all 16 (0.88 over the 13 the KL left on, σ filling the rest), and 86% of the 16-number VAE's random
  latents are clear digits.
- **Large β: blur, numbers switched off, collapse.** With 16 numbers the PSNR falls from 20.3 dB at β = 1 to 18.0 at
  β = 4 and 12.5 at β = 16, and the active numbers from 13 to 11 to 3. With 2 numbers both stay just above the
  threshold, but carry only 0.6 nats together at β = 16 (6.6 at β = 1). Different digits then decode alike: at
  β = 16 only about a fifth of the test digits' decode(μ) keep their own label (`kept_label_share` 0.20 with 16
  numbers, 0.98 at β = 1). Its random latents still decode to clear digits (88%), but to the same few blurred ones.
- Two numbers are too few for the trade-off to show in the reconstructions below β = 4: their PSNR stays at about
  14.2 dB from β = 0 to 1. The trade-off plot shows it with 16 numbers.
"""
TABLE_HEADERS = ["", "model", "numbers", "β", "PSNR (dB)", "KL (nats)", "active numbers", "code std",
                 "clear share", "prior", "kept label"]


@errors.friendly
@answers.remembered
@on_model_thread
def on_beta(weight, extent):
    return beta.beta_view(weight, extent)


def weight_at(position):
    """The slider's position (0, 1, ...) -> the 2-number weight trained there."""
    weights = beta.weights(2)
    return weights[min(max(int(position), 0), len(weights) - 1)]


def table_rows(summary):
    """The family's table from /digits_beta's summary, the chosen weight's rows marked."""
    def cell(value, form):
        return "–" if value is None else format(value, form)
    return [["◀" if row["kl_weight"] == summary["beta"] else "", row["name"], row["latent_dim"],
             f"{row['kl_weight']:g}", cell(row["psnr_db"], ".1f"), cell(row["kl_nats"], ".2f"),
             row["active_dims"], cell(row["code_std"], ".2f"), cell(row["clear_share"], ".0%"),
             cell(row["prior_digit_likeness"], ".0%"), cell(row["kept_label_share"], ".0%")]
            for row in summary["family"]]


def build(page, yours):
    weights = beta.weights(2)
    with gr.Tab("β, the KL weight", elem_id="digits-beta-tab", id="digits-beta") as beta_tab:
        gr.Markdown(BETA_HELP.format(claims=CLAIMS, active=beta.ACTIVE_NATS))
        with gr.Row():
            position = gr.Slider(0, len(weights) - 1, value=weights.index(1.0), step=1,
                                 label="β: " + " · ".join(f"{w:g}" for w in weights), elem_id="beta-slider")
            weight = gr.Number(1.0, label="β, the KL weight (the nearest trained weight is used)", minimum=0,
                               maximum=beta.MAX_BETA, elem_id="beta-weight")
            extent = gr.Radio([("N(0, I)'s ±3", "prior"), ("the model's own range", "codes")], value="prior",
                              label="Show")
        with gr.Row():
            beta_map = gr.Image(label="The 2-number model at this β", format="png", interactive=False,
                                elem_id="beta-map")
            tradeoff = gr.Plot(label="Reconstruction against KL", show_label=False)
        table = gr.Dataframe(headers=TABLE_HEADERS, interactive=False, label="The family, per weight",
                             elem_id="beta-table")
        beta_summary = gr.JSON(label="Summary", elem_id="digits-beta-summary")
    event = dict(fn=on_beta, inputs=[weight, extent], outputs=[beta_map, tradeoff, beta_summary])
    position.change(weight_at, position, weight, api_visibility="private", queue=False)
    weight.change(**event, api_name="digits_beta", trigger_mode="always_last").then(
        table_rows, beta_summary, table, api_visibility="private", queue=False)
    for trigger in (extent.change, beta_tab.select):
        trigger(**event, api_visibility="private").then(table_rows, beta_summary, table, api_visibility="private",
                                                        queue=False)

