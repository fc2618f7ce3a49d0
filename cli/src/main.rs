//! `nnet`: train fully connected tanh networks from CSV, FANN or IDX files, and predict,
//! evaluate, inspect and export the saved models. `nnet --help` lists the commands.

mod args;
mod commands;
mod hooks;
mod input;

use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Train(a) => commands::train(a),
        Command::Predict(a) => commands::predict_to_stdout(a),
        Command::Eval(a) => commands::eval(a),
        Command::Info { model } => commands::info(model),
        Command::ExportOnnx { model, onnx } => commands::export_onnx(model, onnx),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nnet: {e}");
            ExitCode::FAILURE
        }
    }
}
